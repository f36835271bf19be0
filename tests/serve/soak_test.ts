/**
 * A soak of `cnishim serve` on its unix socket: 200 slow connections (half
 * a head, then nothing), 20 oversized bodies (by content-length and
 * chunked) and 500 normal requests through the real client, interleaved.
 * Every normal request is answered correctly, every oversized one is 413,
 * the slow ones are closed by the head deadline, the server's peak RSS
 * (VmHWM) stays bounded, and SIGTERM removes the socket. Fake plugins keep
 * the normal requests cheap.
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { sendRequest } from "../../src/serve/client.ts";
import { DEFAULT_SERVE_LIMITS } from "../../src/serve/server.ts";
import { bedFor, startServe } from "./_serve.ts";

const NETNS = "/proc/self/ns/net";
const SLOW = 200;
const OVERSIZED = 20;
const NORMAL = 500;
const CONCURRENCY = 8;
// Measured about 90 MiB on Deno 2.9.6 (see the commit and the notes); the
// 100 MiB bodies this refuses made it 394 MB and more before the cap.
const MAX_RSS_KIB = 300 * 1024;

const enc = new TextEncoder();

async function vmHwmKib(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
}

// Reads until EOF; the text, or the error's name.
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16384);
  let text = "";
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return text;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch (error) {
    return `${text}<${(error as Error).name}>`;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

// An announced 100 MiB body with 1 MiB of it sent, or a chunked one past
// the cap (2.5 MiB): the status line answered.
async function oversized(socket: string, chunked: boolean): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const head = chunked
    ? "POST /v1/add HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    : "POST /v1/add HTTP/1.1\r\nhost: x\r\ncontent-length: 104857600\r\n\r\n";
  try {
    await writeAll(conn, enc.encode(head));
    const piece = new Uint8Array(256 * 1024).fill(0x61);
    for (let sent = 0; sent < (chunked ? 2.5 : 1) * 1024 * 1024;) {
      await writeAll(
        conn,
        chunked
          ? enc.encode(`${piece.length.toString(16)}\r\n`)
          : new Uint8Array(),
      );
      await writeAll(conn, piece);
      if (chunked) await writeAll(conn, enc.encode("\r\n"));
      sent += piece.length;
    }
  } catch { /* refused while sending: the answer is still there */ }
  return (await readToEnd(conn)).split("\r\n")[0]!;
}

Deno.test({
  name:
    `serve soak: ${SLOW} slow connections, ${OVERSIZED} oversized bodies, ${NORMAL} normal requests; all answered, RSS bounded, socket removed`,
  sanitizeResources: false,
  async fn() {
    const started = performance.now();
    await using fake = await FakePlugins.create(["a"]);
    const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
    await using server = await startServe(bed.socket, bed.flags);
    const baseline = await vmHwmKib(server.pid);

    // The slow ones: half a head each, then silence.
    const slowOpened = performance.now();
    const slow = await Promise.all(
      Array.from({ length: SLOW }, async () => {
        const c = await Deno.connect({ transport: "unix", path: bed.socket });
        await c.write(enc.encode("POST /v1/add HTTP/1.1\r\nhost: x\r\ncont"));
        return c;
      }),
    );
    const slowEnded = slow.map(async (c) => {
      const text = await readToEnd(c);
      return { text, ms: performance.now() - slowOpened };
    });

    // Normal requests, CONCURRENCY at a time: networks, and one in five an
    // add or a del of a fake plugin.
    const answers: string[] = [];
    let next = 0;
    const normal = async () => {
      while (next < NORMAL) {
        const i = next++;
        const kind = i % 10;
        if (kind < 8) {
          const r = await sendRequest(bed.socket, "networks", {
            args: [],
            flags: {},
          });
          equal(r.exitCode, 0, r.stderr);
          match(r.stdout, /"n1"/);
        } else {
          const op = kind === 8 ? "add" : "del";
          const id = `soak${i - kind + 8}`;
          const r = await sendRequest(bed.socket, op, {
            args: [id, NETNS],
            flags: {},
          });
          equal(r.exitCode, 0, `${op} ${id}: ${r.stdout}${r.stderr}`);
        }
        answers.push(String(i));
      }
    };
    const oversizedDone = Promise.all(
      Array.from({ length: OVERSIZED }, async (_, i) => {
        // Spread among the normal requests.
        await new Promise((r) => setTimeout(r, i * 150));
        return await oversized(bed.socket, i % 2 === 1);
      }),
    );
    await Promise.all(Array.from({ length: CONCURRENCY }, normal));
    const normalMs = performance.now() - started;
    const statuses = await oversizedDone;
    equal(answers.length, NORMAL, "every normal request answered");
    for (const s of statuses) match(s, /^HTTP\/1\.1 413 /);

    // Each slow connection is closed by the head deadline, unanswered.
    const ended = await Promise.all(slowEnded);
    const deadline = DEFAULT_SERVE_LIMITS.headerTimeoutMs;
    for (const e of ended) {
      equal(e.text, "", "closed without an answer");
      ok(e.ms >= deadline - 500, `closed after ${e.ms} ms`);
      ok(e.ms < deadline + 15_000, `closed after ${e.ms} ms`);
    }

    const peak = await vmHwmKib(server.pid);
    const stop = await server.stop();
    equal(stop.code, 0, stop.stderr);
    ok(
      !(await Deno.lstat(bed.socket).then(() => true, () => false)),
      "socket removed",
    );
    const total = performance.now() - started;
    // deno-lint-ignore no-console -- the RSS figure and timings are the report
    console.log(
      `soak: VmHWM ${Math.round(baseline / 1024)} MiB at start, ${
        Math.round(peak / 1024)
      } MiB peak; ${NORMAL} requests in ${
        Math.round(normalMs)
      } ms, whole soak ${Math.round(total)} ms`,
    );
    ok(peak < MAX_RSS_KIB, `VmHWM ${peak} kB`);
    // A guard against a hang, not a figure: it takes 15-30 s alone.
    ok(total < 90_000, `the soak took ${total} ms`);
  },
});
