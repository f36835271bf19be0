/**
 * `cnishim serve` started by systemd's socket activation, through Debian's
 * `systemd-socket-activate`, which passes the listening socket exactly as
 * systemd does (fd 3, `LISTEN_FDS`, `LISTEN_PID`) and execs the server on
 * the first connection. Against fake plugins; no root needed.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { baseEnv, cliCommand, explain, runCli } from "../_helpers/run_cli.ts";
import { ignoreWithout, requirePart } from "../_helpers/prerequisites.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { bedFor, spawnServe } from "./_serve.ts";
import { listenFds } from "../../src/serve/activation.ts";

const ACTIVATE = "/usr/bin/systemd-socket-activate";
const NETNS = "/proc/self/ns/net";

/** `cnishim serve <flags>` behind `systemd-socket-activate -l <socket>`. */
function activate(socket: string, flags: string[]) {
  const [cmd, ...lead] = cliCommand();
  return spawnServe([
    ACTIVATE,
    "-l",
    socket,
    // Passed on to the server: it starts from the tests' base environment.
    ...Object.keys(baseEnv()).flatMap((k) => ["-E", k]),
    cmd,
    ...lead,
    "serve",
    ...flags,
  ]);
}

Deno.test("sd_listen_fds: the fds from 3 when LISTEN_PID is ours, none otherwise, a bad count refused", () => {
  deepEqual(listenFds({}, 10), []);
  deepEqual(listenFds({ LISTEN_FDS: "2", LISTEN_PID: "10" }, 10), [3, 4]);
  deepEqual(listenFds({ LISTEN_FDS: "1", LISTEN_PID: "11" }, 10), []);
  deepEqual(listenFds({ LISTEN_FDS: "1" }, 10), []);
  let error: unknown;
  try {
    listenFds({ LISTEN_FDS: "x", LISTEN_PID: "10" }, 10);
  } catch (e) {
    error = e;
  }
  match(String(error), /Invalid LISTEN_FDS "x"/);
});

Deno.test({
  name:
    "socket activation: the first request is answered on the passed socket, the start-up line names it, and SIGTERM drains the ADD in flight",
  ignore: ignoreWithout(ACTIVATE),
  async fn() {
    await requirePart(ACTIVATE);
    await using fake = await FakePlugins.create(["a", "b"]);
    const bed = await bedFor(fake, [{ name: "n1", types: ["a", "b"] }]);
    await fake.answer("b", "ADD", { sleep: 2 });
    const socket = join(fake.root, "activated.sock");
    const { child, exited } = activate(socket, bed.flags);
    try {
      await waitFor(
        () => Deno.lstat(socket).then(() => true, () => false),
        10_000,
        "systemd-socket-activate listening",
      );
      // The first connection starts the server: its ADD must be answered.
      const adding = runCli(["--socket", socket, "add", "c1", NETNS]);
      await waitFor(
        async () => (await fake.calls()).some((c) => c.type === "b"),
        30_000,
        "the ADD reaching plugin b",
      );
      const metrics = await runCli(["metrics", "--socket", socket]);
      equal(metrics.code, 0, explain(metrics));
      match(metrics.stdout, /^cnishim_operations_in_flight 1$/m);

      Deno.kill(child.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 200));
      const refused = await runCli(["--socket", socket, "add", "c2", NETNS]);
      equal(refused.code, 1, explain(refused));
      equal(refused.json<{ code: number }>().code, 11);

      const added = await adding;
      equal(added.code, 0, explain(added));
      deepEqual(
        added.json<{ networks: { name: string }[] }>().networks.map((n) =>
          n.name
        ),
        ["n1"],
      );
      const exit = await exited;
      equal(exit.code, 0, exit.stderr);
      match(
        exit.stderr,
        new RegExp(
          `^\\S+Z notice listening on ${socket}, 1 networks from ${bed.conf}$`,
          "m",
        ),
      );
      // The finished ADD is cached; c2 never ran.
      ok(!(await fake.calls()).some((c) => c.env.CNI_CONTAINERID === "c2"));
      const del = await runCli(["del", "c1", ...bed.flags]);
      equal(del.code, 0, explain(del));
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await exited;
    }
  },
});

Deno.test({
  name:
    "socket activation: a body over the cap is 413 with code 4 on the passed socket too, and the server keeps answering",
  ignore: ignoreWithout(ACTIVATE),
  async fn() {
    await requirePart(ACTIVATE);
    await using fake = await FakePlugins.create(["a"]);
    const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
    const socket = join(fake.root, "activated.sock");
    const { child, exited } = activate(socket, bed.flags);
    try {
      await waitFor(
        () => Deno.lstat(socket).then(() => true, () => false),
        10_000,
        "systemd-socket-activate listening",
      );
      const first = await runCli(["--socket", socket, "networks"]);
      equal(first.code, 0, explain(first));
      for (
        const head of [
          "content-length: 104857600\r\n",
          "transfer-encoding: chunked\r\n",
        ]
      ) {
        const conn = await Deno.connect({ transport: "unix", path: socket });
        const enc = new TextEncoder();
        await conn.write(
          enc.encode(`POST /v1/networks HTTP/1.1\r\nhost: x\r\n${head}\r\n`),
        );
        const piece = enc.encode(
          head.startsWith("transfer")
            ? `40000\r\n${"a".repeat(0x40000)}\r\n`
            : "a".repeat(0x40000),
        );
        try {
          for (let i = 0; i < 10; i++) {
            for (let o = 0; o < piece.length;) {
              o += await conn.write(piece.subarray(o));
            }
          }
        } catch { /* refused while sending */ }
        let text = "";
        const buf = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          text += new TextDecoder().decode(buf.subarray(0, n));
        }
        conn.close();
        match(text, /^HTTP\/1\.1 413 /, head);
        match(text, /"code": 4/);
      }
      const after = await runCli(["--socket", socket, "networks"]);
      equal(after.code, 0, explain(after));
      Deno.kill(child.pid, "SIGTERM");
      equal((await exited).code, 0);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await exited;
    }
  },
});
