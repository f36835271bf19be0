/**
 * The server's bounds, on the library's `startServer` with short limits so
 * that each is quick to reach: a body over the cap is 413 with a CNI error
 * (read no further), a head that does not come whole in time or a
 * connection idle too long is closed, a head too big is 431, operations
 * past the in-flight bound and connections past the connection bound are
 * 503 with code 11, which the `--socket` client reports as code 11 and the
 * front-end plugin's forwarder takes as "run it yourself".
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  type CnishimServer,
  DEFAULT_SERVE_LIMITS,
  type ServeLimits,
  startServer,
} from "../../src/serve/server.ts";
import { sendCniCall, sendRequest } from "../../src/serve/client.ts";
import {
  EXIT_CODE_HEADER,
  MAX_REQUEST_BYTES,
  type ServeReply,
} from "../../src/serve/protocol.ts";
import {
  MAX_ANNOTATIONS_BYTES,
  MAX_CAPABILITY_ARGS_BYTES,
  MAX_CNI_ARGS_BYTES,
} from "../../src/runtime/pod_inputs.ts";

const OK: ServeReply = { exitCode: 0, stdout: '{"ok":true}\n', stderr: "" };

async function withServer(
  limits: Partial<ServeLimits>,
  fn: (s: CnishimServer, gate: Gate) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cnishim-limits-" });
  const gate = new Gate();
  const server = await startServer({
    socket: join(dir, "s.sock"),
    operations: ["networks", "slow", "cni"],
    handle: async (operation) => {
      if (operation === "slow" || operation === "cni") await gate.wait();
      return OK;
    },
    limits,
  });
  try {
    await fn(server, gate);
  } finally {
    gate.open();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

class Gate {
  #open = false;
  #waiting: (() => void)[] = [];
  wait(): Promise<void> {
    return this.#open
      ? Promise.resolve()
      : new Promise((r) => this.#waiting.push(r));
  }
  open(): void {
    this.#open = true;
    for (const w of this.#waiting.splice(0)) w();
  }
}

const enc = new TextEncoder();

async function connect(socket: string): Promise<Deno.UnixConn> {
  return await Deno.connect({ transport: "unix", path: socket });
}

// Everything the server writes until it closes (or `ms` pass: undefined).
async function readAll(
  conn: Deno.Conn,
  ms = 5000,
): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), ms);
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    return undefined; // closed by our timer: the server kept it open
  } finally {
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch { /* closed */ }
  return new TextDecoder().decode(
    new Uint8Array(chunks.flatMap((c) => [...c])),
  );
}

Deno.test("the body cap holds every pod input at its bound, and is 2 MiB", () => {
  equal(MAX_REQUEST_BYTES, 2 * 1024 * 1024);
  ok(
    MAX_ANNOTATIONS_BYTES + MAX_CAPABILITY_ARGS_BYTES + MAX_CNI_ARGS_BYTES <
      MAX_REQUEST_BYTES / 2,
  );
  equal(DEFAULT_SERVE_LIMITS.maxBodyBytes, MAX_REQUEST_BYTES);
});

Deno.test("a body over the cap is 413 with a CNI error (code 4) and exit code, by content-length or chunked, without reading it", async () => {
  await withServer({ maxBodyBytes: 1000 }, async (server) => {
    const conn = await connect(server.socket);
    // Announced 100 MiB, none sent: answered at once.
    await conn.write(enc.encode(
      "POST /v1/networks HTTP/1.1\r\nhost: x\r\ncontent-length: 104857600\r\n\r\n",
    ));
    const text = await readAll(conn);
    ok(text !== undefined, "answered and closed");
    match(text, /^HTTP\/1\.1 413 /);
    match(text, new RegExp(`${EXIT_CODE_HEADER}: 1`));
    match(text, /"code": 4/);
    match(text, /over 1000 bytes/);

    const chunked = await connect(server.socket);
    await chunked.write(enc.encode(
      "POST /v1/networks HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" +
        `300\r\n${"a".repeat(0x300)}\r\n300\r\n${"a".repeat(0x300)}\r\n`,
    ));
    match((await readAll(chunked))!, /^HTTP\/1\.1 413 /);

    // Under the cap, chunked, is served.
    const fine = await connect(server.socket);
    await fine.write(enc.encode(
      "POST /v1/networks HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ));
    match((await readAll(fine))!, /^HTTP\/1\.1 200 [^]*\{"ok":true\}/);
  });
});

Deno.test("a head that does not come whole in time, a kept-alive connection left idle, a slow body: closed; a head too big is 431", async () => {
  await withServer({
    headerTimeoutMs: 300,
    idleTimeoutMs: 300,
    bodyTimeoutMs: 300,
    maxHeaderBytes: 2048,
  }, async (server) => {
    const started = performance.now();
    const slow = await connect(server.socket);
    await slow.write(enc.encode("POST /v1/networks HTTP/1.1\r\nhost: x\r\n"));
    const silent = await connect(server.socket);
    const body = await connect(server.socket);
    await body.write(enc.encode(
      "POST /v1/networks HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n{",
    ));
    const kept = await connect(server.socket);
    await kept.write(
      enc.encode("GET /v1/networks HTTP/1.1\r\nhost: x\r\n\r\n"),
    );
    const [a, b, c, d] = await Promise.all(
      [slow, silent, body, kept].map((conn) => readAll(conn, 5000)),
    );
    equal(a, "", "the slow head is closed without an answer");
    equal(b, "", "the silent connection is closed");
    equal(c, "", "the slow body is closed");
    match(d!, /^HTTP\/1\.1 200 [^]*connection: keep-alive/);
    ok(performance.now() - started < 4000);

    const big = await connect(server.socket);
    await big.write(enc.encode(
      `GET /v1/networks HTTP/1.1\r\nx-pad: ${"p".repeat(4096)}\r\n\r\n`,
    ));
    match((await readAll(big))!, /^HTTP\/1\.1 431 /);
  });
});

Deno.test("past the in-flight bound: 503 with code 11; the --socket client gets code 11, the forwarder runs the call itself; served again once below", async () => {
  await withServer({ maxInFlight: 2 }, async (server, gate) => {
    const held = [
      sendRequest(server.socket, "slow", { args: [], flags: {} }),
      sendRequest(server.socket, "slow", { args: [], flags: {} }),
    ];
    while (server.inFlight < 2) await new Promise((r) => setTimeout(r, 10));
    const over = await sendRequest(server.socket, "networks", {
      args: [],
      flags: {},
    });
    equal(over.exitCode, 1);
    const error = JSON.parse(over.stdout);
    equal(error.code, 11);
    match(error.msg, /busy \(2 operations at once\)/);
    const forwarded = await sendCniCall(server.socket, {
      CNI_COMMAND: "ADD",
    }, "{}");
    ok("refused" in forwarded, JSON.stringify(forwarded));
    match(forwarded.refused, /HTTP 503: cnishim serve is busy/);
    gate.open();
    deepEqual((await Promise.all(held)).map((r) => r.exitCode), [0, 0]);
    equal(
      (await sendRequest(server.socket, "networks", { args: [], flags: {} }))
        .exitCode,
      0,
    );
  });
});

Deno.test("past the connection bound: the next connection's request is 503 with code 11 and it is closed; served again once one closes", async () => {
  await withServer({ maxConnections: 3 }, async (server) => {
    const idle = await Promise.all([1, 2, 3].map(() => connect(server.socket)));
    await new Promise((r) => setTimeout(r, 100));
    const reply = await sendRequest(server.socket, "networks", {
      args: [],
      flags: {},
    });
    equal(reply.exitCode, 1);
    equal(JSON.parse(reply.stdout).code, 11);
    match(JSON.parse(reply.stdout).msg, /3 connections/);
    for (const c of idle) c.close();
    await new Promise((r) => setTimeout(r, 100));
    equal(
      (await sendRequest(server.socket, "networks", { args: [], flags: {} }))
        .exitCode,
      0,
    );
  });
});
