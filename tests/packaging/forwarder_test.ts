/**
 * The front-end plugin's forwarder (`packaging/cni/cnishim_forwarder.c`),
 * compiled as the package compiles it, against a scripted server on a
 * unix socket and a fake program recording its argv, environment and
 * stdin: what it sends (the `cni` request the server parses), what it
 * prints, and when it execs the program instead (once, with the same
 * argv, environment and stdin).
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildForwarder } from "../_helpers/front_end_plugin.ts";
import { baseEnv, cliCommand } from "../_helpers/run_cli.ts";
import { parseCniRequest } from "../../src/serve/protocol.ts";
import {
  FORWARDER_REFUSED_VARIABLE,
  FORWARDER_SOCKET_VARIABLE,
} from "../../src/cli/cni_plugin.ts";

const HAS_CC = await new Deno.Command("gcc", { args: ["--version"] })
  .output().then((o) => o.success, () => false);
const ignore = !HAS_CC && Deno.env.get("CI") !== "true";
const DEC = new TextDecoder();
const ENC = new TextEncoder();

/** What the scripted server answers: raw bytes, or nothing at all. */
type Answer = string | "hang";

interface Bed extends AsyncDisposable {
  dir: string;
  socket: string;
  forwarder: string;
  /** The requests the server got (head and body). */
  requests: { head: string; body: string }[];
  /** Starts the server answering `answer` to every request. */
  serve(answer: Answer): void;
  /** Closes the listener (the socket file is removed). */
  stopServing(): void;
  /** The fake program's runs. */
  runs(): Promise<Run[]>;
  exec(
    env: Record<string, string>,
    stdin: string | Uint8Array,
    args?: string[],
  ): Promise<{ code: number; stdout: string; stderr: string; ms: number }>;
}

interface Run {
  argv: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
}

async function bed(replyTimeoutMs = 5000): Promise<Bed> {
  const dir = await Deno.makeTempDir({ prefix: "cnishim-fwd-" });
  const socket = join(dir, "serve.sock");
  const runsDir = join(dir, "runs");
  await Deno.mkdir(runsDir);
  // The fake program: records, then answers like a plugin would.
  const program = join(dir, "program");
  await Deno.writeTextFile(
    program,
    [
      "#!/bin/sh",
      `d=${runsDir}/$$`,
      'mkdir "$d"',
      'cat > "$d/stdin"',
      'env -0 > "$d/env"',
      'printf \'%s\\0\' "$0" "$@" > "$d/argv"',
      'echo \'{"ran":"program"}\'',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const forwarder = await buildForwarder(
    [program, "--word one"],
    socket,
    join(dir, "cnishim"),
    { replyTimeoutMs },
  );
  const requests: { head: string; body: string }[] = [];
  let listener: Deno.Listener | undefined;
  const held: Deno.Conn[] = [];
  const handle = async (conn: Deno.Conn, answer: Answer) => {
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    let headEnd = -1, want = 0;
    for (;;) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) break;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      if (headEnd === -1) {
        headEnd = DEC.decode(buf).indexOf("\r\n\r\n");
        if (headEnd !== -1) {
          const head = DEC.decode(buf.subarray(0, headEnd));
          want = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        }
      }
      if (headEnd !== -1 && buf.length >= headEnd + 4 + want) break;
    }
    const text = DEC.decode(buf);
    requests.push({
      head: text.slice(0, headEnd),
      body: text.slice(headEnd + 4),
    });
    if (answer === "hang") {
      held.push(conn);
      return;
    }
    await conn.write(ENC.encode(answer)).catch(() => {});
    conn.close();
  };
  return {
    dir,
    socket,
    forwarder,
    requests,
    serve(answer) {
      listener = Deno.listen({ transport: "unix", path: socket });
      void (async () => {
        for await (const conn of listener!) void handle(conn, answer);
      })().catch(() => {});
    },
    stopServing() {
      listener?.close();
      listener = undefined;
    },
    async runs() {
      const out: Run[] = [];
      for await (const e of Deno.readDir(runsDir)) {
        const at = join(runsDir, e.name);
        const env: Record<string, string> = {};
        for (
          const kv of DEC.decode(await Deno.readFile(join(at, "env"))).split(
            "\0",
          )
        ) {
          const i = kv.indexOf("=");
          if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
        }
        // What sh itself adds to its environment.
        for (const k of ["PWD", "SHLVL", "_", "OLDPWD"]) delete env[k];
        out.push({
          argv: DEC.decode(await Deno.readFile(join(at, "argv"))).split("\0")
            .slice(0, -1),
          env,
          stdin: await Deno.readFile(join(at, "stdin")),
        });
      }
      return out;
    },
    async exec(env, stdin, args = []) {
      const started = performance.now();
      const child = new Deno.Command(forwarder, {
        args,
        clearEnv: true,
        env: { ...baseEnv(), ...env },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(typeof stdin === "string" ? ENC.encode(stdin) : stdin)
        .catch(() => {});
      await w.close().catch(() => {});
      const out = await child.output();
      return {
        code: out.code,
        stdout: DEC.decode(out.stdout),
        stderr: DEC.decode(out.stderr),
        ms: performance.now() - started,
      };
    },
    async [Symbol.asyncDispose]() {
      listener?.close();
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const ENV = {
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "pod-1",
  CNI_NETNS: "/var/run/netns/x y",
  CNI_IFNAME: "eth0",
  CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=a+b&c=%41",
  CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
};

// A config naming the socket, with bytes url-encoding must carry as is.
const config = (socket: string, extra = "") =>
  `{"cniVersion": "1.0.0", "name": "cnishim", "type": "cnishim",\n  "socket":  "${socket}", "note": "+ & = % é \\u0000 ${extra}"}\n\n`;

const reply = (status: string, body: string, headers: string[] = []) =>
  `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\n${
    headers.map((h) => `${h}\r\n`).join("")
  }content-length: ${
    ENC.encode(body).length
  }\r\nconnection: close\r\n\r\n${body}`;

Deno.test({
  name:
    "forwarder: 200 is printed as is, exit 0; the request is the cni request the server parses, byte for byte",
  ignore,
  async fn() {
    await using b = await bed();
    const body = '{\n  "cniVersion": "1.0.0",\n  "ips": []\n}\n';
    b.serve(reply("200 OK", body, ["cnishim-exit-code: 0"]));
    const stdin = config(b.socket);
    const r = await b.exec(ENV, stdin);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, body);
    equal(b.requests.length, 1);
    match(b.requests[0]!.head, /^POST \/v1\/cni HTTP\/1\.1\r\n/);
    match(
      b.requests[0]!.head,
      /content-type: application\/x-www-form-urlencoded/,
    );
    deepEqual(parseCniRequest(b.requests[0]!.body), { env: ENV, stdin });
    deepEqual(await b.runs(), []);
  },
});

Deno.test({
  name:
    "forwarder: only the CNI_* variables that are set are sent; a chunked answer is decoded",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(
      "HTTP/1.1 200 OK\r\ncnishim-exit-code: 0\r\ntransfer-encoding: chunked\r\n\r\n" +
        '3\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n',
    );
    const stdin = config(b.socket);
    const r = await b.exec({ CNI_COMMAND: "DEL", CNI_IFNAME: "eth0" }, stdin);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, '{"a":1}');
    deepEqual(parseCniRequest(b.requests[0]!.body), {
      env: { CNI_COMMAND: "DEL", CNI_IFNAME: "eth0" },
      stdin,
    });
  },
});

Deno.test({
  name: "forwarder: 500 is printed as is, exit 1, and not run again",
  ignore,
  async fn() {
    await using b = await bed();
    const body = '{"cniVersion":"1.0.0","code":4,"msg":"already set up"}\n';
    b.serve(
      reply("500 Internal Server Error", body, ["cnishim-exit-code: 1"]),
    );
    const r = await b.exec(ENV, config(b.socket));
    equal(r.code, 1);
    equal(r.stdout, body);
    equal(b.requests.length, 1);
    deepEqual(await b.runs(), []);
  },
});

// The fallback: the program ran once, with this argv, env and stdin.
async function ranOnce(
  b: Bed,
  r: { code: number; stdout: string; stderr: string },
  stdin: string | Uint8Array,
  env: Record<string, string>,
  refused: RegExp | undefined,
  args: string[] = [],
) {
  equal(r.code, 0, r.stderr);
  equal(r.stdout, '{"ran":"program"}\n');
  const runs = await b.runs();
  equal(runs.length, 1);
  const [run] = runs;
  deepEqual(run!.argv.slice(1), ["--word one", ...args]);
  deepEqual(
    run!.stdin,
    typeof stdin === "string" ? ENC.encode(stdin) : stdin,
  );
  const {
    [FORWARDER_SOCKET_VARIABLE]: s,
    [FORWARDER_REFUSED_VARIABLE]: why,
    ...rest
  } = run!.env;
  deepEqual(rest, { ...baseEnv(), ...env });
  if (refused) {
    equal(s, b.socket);
    match(why ?? "", refused);
  } else {
    equal(s, undefined);
    equal(why, undefined);
  }
}

Deno.test({
  name:
    "forwarder: a server answering 503 (stopping) or without cnishim's exit header: the program runs the call, once, with the same argv, env and stdin",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(reply("503 Service Unavailable", '{"code":11}', [
      "cnishim-exit-code: 1",
    ]));
    const stdin = config(b.socket);
    const r = await b.exec(ENV, stdin, ["x", "y z"]);
    await ranOnce(b, r, stdin, ENV, /^HTTP 503$/, ["x", "y z"]);
    equal(b.requests.length, 1);
  },
});

Deno.test({
  name:
    "forwarder: a 200 that is not cnishim serve's (no exit header) is not trusted: the program runs it",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(reply("200 OK", "{}"));
    const stdin = config(b.socket);
    await ranOnce(
      b,
      await b.exec(ENV, stdin),
      stdin,
      ENV,
      /^HTTP 200 without a cnishim-exit-code header$/,
    );
  },
});

Deno.test({
  name:
    "forwarder: no socket, or a socket nobody accepts on: the program runs the call once, told why",
  ignore,
  async fn() {
    await using b = await bed();
    const stdin = config(b.socket);
    await ranOnce(b, await b.exec(ENV, stdin), stdin, ENV, /^no socket$/);
    // A stale socket: bound, then nobody listening.
    const stale = Deno.listen({ transport: "unix", path: b.socket });
    stale.close();
    if (!(await Deno.lstat(b.socket).catch(() => undefined))?.isSocket) {
      // Deno removed it on close: bind one that stays.
      const c = new Deno.Command("python3", {
        args: [
          "-c",
          "import socket,sys;s=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1])",
          b.socket,
        ],
      });
      equal((await c.output()).code, 0);
    }
    ok((await Deno.lstat(b.socket)).isSocket);
    await Deno.remove(join(b.dir, "runs"), { recursive: true });
    await Deno.mkdir(join(b.dir, "runs"));
    await ranOnce(
      b,
      await b.exec(ENV, stdin),
      stdin,
      ENV,
      /^cannot connect: Connection refused$/,
    );
  },
});

Deno.test({
  name:
    "forwarder: a config naming another socket (or none) is not forwarded: the program runs it, not told anything",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(reply("200 OK", "{}", ["cnishim-exit-code: 0"]));
    const other = config(`${b.socket}.other`);
    await ranOnce(b, await b.exec(ENV, other), other, ENV, undefined);
    await Deno.remove(join(b.dir, "runs"), { recursive: true });
    await Deno.mkdir(join(b.dir, "runs"));
    const thin = '{"cniVersion":"1.0.0","name":"n","type":"cnishim"}';
    await ranOnce(b, await b.exec(ENV, thin), thin, ENV, undefined);
    equal(b.requests.length, 0);
  },
});

Deno.test({
  name:
    "forwarder: VERSION and a call without CNI_COMMAND go to the program, never to the server",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(reply("200 OK", "{}", ["cnishim-exit-code: 0"]));
    const stdin = config(b.socket);
    const env = { ...ENV, CNI_COMMAND: "VERSION" };
    await ranOnce(b, await b.exec(env, stdin), stdin, env, undefined);
    await Deno.remove(join(b.dir, "runs"), { recursive: true });
    await Deno.mkdir(join(b.dir, "runs"));
    await ranOnce(b, await b.exec({}, "", ["version"]), "", {}, undefined, [
      "version",
    ]);
    equal(b.requests.length, 0);
  },
});

Deno.test({
  name:
    "forwarder: stdin over 1 MiB is not forwarded: the program gets all of it",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve(reply("200 OK", "{}", ["cnishim-exit-code: 0"]));
    const head = ENC.encode(config(b.socket));
    const stdin = new Uint8Array(1024 * 1024 + 100_000).fill(0x20);
    stdin.set(head);
    await ranOnce(
      b,
      await b.exec(ENV, stdin),
      stdin,
      ENV,
      /^stdin over 1048576 bytes$/,
    );
    equal(b.requests.length, 0);
  },
});

Deno.test({
  name:
    "forwarder: a server that takes the call and never answers costs the deadline, then the program runs it once",
  ignore,
  async fn() {
    await using b = await bed(700);
    b.serve("hang");
    const stdin = config(b.socket);
    const r = await b.exec(ENV, stdin);
    await ranOnce(b, r, stdin, ENV, /^no answer within 700 ms$/);
    ok(r.ms >= 700, `${r.ms} ms`);
    ok(r.ms < 5000, `${r.ms} ms`);
    equal(b.requests.length, 1);
  },
});

Deno.test({
  name:
    "forwarder → cnishim: after a server that never answered, cnishim runs the DEL in-process, warns once and does not try the server again",
  ignore,
  async fn() {
    await using b = await bed();
    b.serve("hang");
    const cache = join(b.dir, "cache");
    const forwarder = await buildForwarder(
      cliCommand(),
      b.socket,
      join(b.dir, "cnishim-cli"),
      { replyTimeoutMs: 500 },
    );
    const noConfig = join(b.dir, "no-config.json");
    await Deno.writeTextFile(noConfig, "{}");
    const stdin = JSON.stringify({
      cniVersion: "1.0.0",
      name: "cnishim",
      type: "cnishim",
      confDir: join(b.dir, "net.d"),
      binDir: b.dir,
      cacheDir: cache,
      config: noConfig,
      socket: b.socket,
    });
    const child = new Deno.Command(forwarder, {
      clearEnv: true,
      env: {
        ...baseEnv(),
        CNI_COMMAND: "DEL",
        CNI_CONTAINERID: "never-seen",
        CNI_NETNS: "",
        CNI_IFNAME: "eth0",
        CNI_PATH: b.dir,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(ENC.encode(stdin));
    await w.close();
    // A cnishim that tried the server again would hang on it: bounded.
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const out = await child.output().finally(() => clearTimeout(guard));
    const stderr = DEC.decode(out.stderr);
    equal(out.code, 0, DEC.decode(out.stdout) + stderr);
    const warned = stderr.split("\n").filter((l) =>
      l.includes("running it in-process")
    );
    equal(warned.length, 1, stderr);
    match(warned[0]!, /no answer within 500 ms/);
    equal(b.requests.length, 1);
  },
});
