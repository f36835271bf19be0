/**
 * The wire format of `cnishim serve`: request bodies are checked field by
 * field, and stderr survives its trip through a header.
 *
 * @module
 */
import { deepEqual, equal, match, throws } from "node:assert/strict";
import {
  decodeStderr,
  encodeStderr,
  httpStatus,
  parseServeRequest,
  responseBody,
} from "../../src/serve/protocol.ts";
import { CniError, UsageError } from "../../src/spec/errors.ts";
import { renderFailure } from "../../src/spec/render_failure.ts";

Deno.test("parseServeRequest() takes args, flags and stdin, and an empty body as no arguments", () => {
  deepEqual(parseServeRequest(""), { args: [], flags: {} });
  deepEqual(
    parseServeRequest(
      '{"args":["c1","/ns"],"flags":{"ifname":"eth1","serial":true,"keep":["a"]},"stdin":"{}"}',
    ),
    {
      args: ["c1", "/ns"],
      flags: { ifname: "eth1", serial: true, keep: ["a"] },
      stdin: "{}",
    },
  );
});

Deno.test("parseServeRequest() refuses malformed bodies, naming the field", () => {
  for (
    const [body, message] of [
      ["[1]", /must be a JSON object/],
      ["{oops", /Cannot decode the request body/],
      ['{"argv":[]}', /Unknown field "argv"/],
      ['{"args":"c1"}', /"args" must be a list of strings/],
      ['{"flags":[]}', /"flags" must be an object/],
      ['{"flags":{"keep":[1]}}', /"flags.keep" must be a string/],
      ['{"flags":{"ifname":null}}', /"flags.ifname" must be a string/],
      ['{"stdin":{}}', /"stdin" must be a string/],
    ] as const
  ) {
    throws(() => parseServeRequest(body), (e: unknown) => {
      equal((e as Error).constructor, UsageError, body);
      match((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("parseServeRequest() keeps a __proto__ flag as a plain key, never a prototype", () => {
  const req = parseServeRequest('{"flags":{"__proto__":"x"}}');
  deepEqual(Object.keys(req.flags), ["__proto__"]);
  equal(Object.getPrototypeOf(req.flags), Object.prototype);
});

Deno.test("stderr survives the header: newlines, quotes, non-ASCII", () => {
  const text =
    'cnishim: Cannot "x" — ünïcode\nRun "cnishim --help" for usage.\n';
  const header = encodeStderr(text);
  equal(/[\r\n]/.test(header), false);
  equal(decodeStderr(header), text);
  equal(decodeStderr(null), "");
  equal(decodeStderr("%E0%A4%A"), "%E0%A4%A");
});

Deno.test("httpStatus() maps exit codes: 0 → 200, usage → 400, not ready → 503, CNI error → 500", () => {
  const ok = { exitCode: 0, stdout: "{}\n", stderr: "" };
  const notReady = { exitCode: 1, stdout: "{}\n", stderr: "not ready: x\n" };
  deepEqual(
    [
      httpStatus(ok),
      httpStatus(renderFailure(new UsageError("Unknown flag"))),
      httpStatus(notReady),
      httpStatus(renderFailure(new CniError(7, "bad conf"))),
    ],
    [200, 400, 503, 500],
  );
});

Deno.test("httpStatus() answers 503 for code 11 (the server stopping) and 500 for a bug", () => {
  equal(httpStatus(renderFailure(new CniError(11, "stopping"))), 503);
  equal(httpStatus(renderFailure(new Error("bug"))), 500);
});

Deno.test("responseBody() is the CLI's stdout, and a CNI error object for a usage error", () => {
  const usage = renderFailure(new UsageError('Unknown flag "--x"'));
  equal(usage.stdout, "");
  deepEqual(JSON.parse(responseBody(usage)), {
    cniVersion: "1.1.0",
    code: 4,
    msg: 'Unknown flag "--x"',
  });
  const failure = renderFailure(new CniError(11, "stopping"));
  equal(responseBody(failure), failure.stdout);
  equal(JSON.parse(failure.stdout).code, 11);
});
