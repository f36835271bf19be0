/**
 * The wire format of `cnishim serve`: request bodies are checked field by
 * field, and stderr survives its trip through a header.
 *
 * @module
 */
import { deepEqual, equal, match, throws } from "node:assert/strict";
import {
  BadRequestError,
  decodeStderr,
  encodeStderr,
  httpStatus,
  parseServeRequest,
} from "../../src/serve/protocol.ts";

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
      equal((e as Error).constructor, BadRequestError, body);
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
  deepEqual(
    [
      httpStatus("add", 0),
      httpStatus("add", 2),
      httpStatus("status", 1),
      httpStatus("add", 1),
    ],
    [200, 400, 503, 500],
  );
});
