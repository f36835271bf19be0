/**
 * `cnishim serve` out of file descriptors: run under a low RLIMIT_NOFILE
 * and sent more connections than it has descriptors for, it logs the
 * accept errors, backs off and keeps serving; once the connections go,
 * requests are answered again, and SIGTERM still removes the socket.
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { bedFor, startServe } from "./_serve.ts";

const NOFILE = 64;

Deno.test(`serve under RLIMIT_NOFILE ${NOFILE} survives accept errors (EMFILE) and answers afterwards`, async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await using server = await startServe(bed.socket, bed.flags, [
    "prlimit",
    `--nofile=${NOFILE}:${NOFILE}`,
  ]);
  const conns: Deno.UnixConn[] = [];
  for (let i = 0; i < 3 * NOFILE; i++) {
    conns.push(await Deno.connect({ transport: "unix", path: bed.socket }));
  }
  // Each sends a request: those accepted are answered, the rest wait.
  const enc = new TextEncoder();
  for (const c of conns) {
    await c.write(enc.encode("GET /v1/networks HTTP/1.1\r\nhost: x\r\n"));
  }
  await new Promise((r) => setTimeout(r, 1500));
  for (const c of conns) c.close();
  let exited = false;
  void server.exited.then(() => exited = true);
  await new Promise((r) => setTimeout(r, 200));
  equal(exited, false, "serve is still running");
  for (let i = 0; i < 5; i++) {
    const r = await runCli(["--socket", bed.socket, "networks"]);
    equal(r.code, 0, explain(r));
    match(r.stdout, /n1/);
  }
  const end = await server.stop();
  equal(end.code, 0, end.stderr);
  match(end.stderr, /cannot accept a connection; backing off/);
  match(end.stderr, /Too many open files/);
  ok(
    !(await Deno.lstat(bed.socket).then(() => true, () => false)),
    "socket removed",
  );
});
