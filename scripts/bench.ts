// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task bench`: what a pod pays for cnishim, always next to a floor
 * measured in the same run (the machine is noisy; compare ratios).
 *
 * 1. start-up: `version` and `add` (trivial plugin) vs bare `deno run`
 * 2. engine overhead: 3 trivial plugins through `add`+`del` vs run directly
 * 3. real pod: bridge+host-local+portmap+tuning, ADD and DEL, vs direct (root)
 * 4. multi-network pod: 3 networks, parallel vs --serial vs slowest single (root)
 * 5. config dir scale: 200 files, time to the default network, cold and changed
 * 6. concurrency: 50 pods by 50 concurrent invocations, throughput and errors
 * 7. serve: a request through the socket over the plugins' own time; the
 *    real pod and the 3-network pod through serve (root)
 *
 * Every artifact (source, bundle — built into a temp dir when dist/ has
 * none — and a compiled binary when dist/ has one) is timed both running
 * the operation itself and as the `--socket` client of a warm server.
 * The goals of issue 6 are checked against floors of the same run.
 *
 * Writes bench/results.json. `BENCH_RUNS` (default 30) sets repetitions.
 *
 * @module
 */
import { join } from "node:path";
import { RUN_FLAGS } from "./_bundle.ts";
import { loadNetworks } from "../src/config/load_networks.ts";
import { WarmNetworks } from "../src/serve/warm_networks.ts";
import { sendRequest } from "../src/serve/client.ts";
import type { ServeRequest } from "../src/serve/protocol.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 30);
const IS_ROOT = Deno.uid() === 0;
const PLUGINS = "/usr/lib/cni";
const ENC = new TextEncoder();
const tmp = await Deno.makeTempDir({ prefix: "cnishim-bench-" });
// An empty shim config, so a node's /etc/cnishim/config.json cannot change the figures.
const NO_CONFIG = join(tmp, "config.json");
await Deno.writeTextFile(NO_CONFIG, "{}");

/** The CLI flags of a bench run: its dirs, no loopback, no config file. */
function shimFlags(binDir: string, confDir: string, cacheDir: string) {
  return [
    "--cni-bin-dir",
    binDir,
    "--cni-conf-dir",
    confDir,
    "--cni-cache-dir",
    cacheDir,
    "--no-loopback",
    "--config",
    NO_CONFIG,
  ];
}
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  runs: RUNS,
};
const cleanups: (() => Promise<unknown>)[] = [];

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: round(q(0.5)), p95: round(q(0.95)), n: s.length };
}
const round = (x: number) => Math.round(x * 100) / 100;

async function timeCmd(
  cmd: string,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
) {
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(ENC.encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stdout)
      }${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { ms, stdout: new TextDecoder().decode(out.stdout) };
}

async function peakRss(
  cmd: string,
  args: string[],
): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", cmd, ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    return Number(
      new TextDecoder().decode(out.stderr).trim().split("\n").pop(),
    );
  } catch {
    return undefined;
  }
}

async function sample(n: number, fn: () => Promise<number>): Promise<number[]> {
  await fn(); // warm the module cache
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return xs;
}

// A trivial plugin: sh printing a fixed result.
const trivialBin = join(tmp, "bin");
await Deno.mkdir(trivialBin, { recursive: true });
for (const name of ["t1", "t2", "t3", "loopback"]) {
  await Deno.writeTextFile(
    join(trivialBin, name),
    '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && printf \'{"cniVersion":"1.0.0"}\'\nexit 0\n',
  );
  await Deno.chmod(join(trivialBin, name), 0o755);
}
const trivialConf = join(tmp, "conf-trivial");
await Deno.mkdir(trivialConf);
await Deno.writeTextFile(
  join(trivialConf, "10-t.conflist"),
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "t",
    plugins: [{ type: "t1" }, { type: "t2" }, { type: "t3" }],
  }),
);
await Deno.writeTextFile(join(tmp, "empty.ts"), "");

const artifacts: [string, string[]][] = [["source", [
  DENO,
  "run",
  "-A",
  join(ROOT, "src/main.ts"),
]]];
try {
  await Deno.stat(join(ROOT, "dist/cnishim.js"));
  artifacts.push(["bundle", [join(ROOT, "dist/cnishim.js")]]);
} catch {
  // Not built: bundle into the temp dir, run as the shipped bundle runs.
  const out = join(tmp, "cnishim.js");
  const built = await new Deno.Command(DENO, {
    args: ["bundle", "--platform", "deno", "-o", out, "src/main.ts"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (built.success) {
    artifacts.push(["bundle", [DENO, ...RUN_FLAGS, out]]);
  } else {
    console.log(
      `bundle skipped: deno bundle failed: ${
        new TextDecoder().decode(built.stderr)
      }`,
    );
  }
}
try {
  for await (const e of Deno.readDir(join(ROOT, "dist"))) {
    if (e.name.startsWith("cnishim-") && !e.name.endsWith(".deb")) {
      artifacts.push([`binary ${e.name}`, [join(ROOT, "dist", e.name)]]);
    }
  }
} catch { /* no dist yet */ }

try {
  // The floors: the three trivial plugins run directly, ADD then DEL.
  const direct = async (plugin: string, command: "ADD" | "DEL") =>
    (await timeCmd(join(trivialBin, plugin), [], {
      stdin: JSON.stringify({ cniVersion: "1.0.0", name: "t", type: plugin }),
      env: { CNI_COMMAND: command },
    })).ms;
  const floorAdds: number[] = [], floorDels: number[] = [];
  await sample(Math.max(RUNS, 20), async () => {
    let add = 0, del = 0;
    for (const p of ["t1", "t2", "t3"]) add += await direct(p, "ADD");
    for (const p of ["t3", "t2", "t1"]) del += await direct(p, "DEL");
    floorAdds.push(add);
    floorDels.push(del);
    return add + del;
  });
  const floorAdd = stats(floorAdds.slice(1)),
    floorDel = stats(floorDels.slice(1));
  const floor = stats(floorAdds.slice(1).map((x, i) => x + floorDels[i + 1]!));

  // 1. start-up
  const bare = stats(
    await sample(
      RUNS,
      async () => (await timeCmd(DENO, ["run", join(tmp, "empty.ts")])).ms,
    ),
  );
  const startup: Record<string, unknown> = {
    "bare deno run": {
      ...bare,
      rssKb: await peakRss(DENO, ["run", join(tmp, "empty.ts")]),
    },
  };
  const cli = (a: string[], extra: string[]) => [...a.slice(1), ...extra];
  const flags = shimFlags(trivialBin, trivialConf, join(tmp, "cache-start"));
  // A warm server on the same chain, for the --socket rows and figure 7.
  const sock = join(tmp, "run", "cnishim.sock");
  await startServer(
    sock,
    shimFlags(trivialBin, trivialConf, join(tmp, "cache-serve")),
  );
  for (const [name, a] of artifacts) {
    const version = stats(
      await sample(
        RUNS,
        async () => (await timeCmd(a[0]!, cli(a, ["version"]))).ms,
      ),
    );
    let i = 0;
    const add = stats(
      await sample(RUNS, async () => {
        const id = `s${i++}`;
        const t = (await timeCmd(
          a[0]!,
          cli(a, ["add", id, "/proc/self/ns/net", ...flags]),
        )).ms;
        await timeCmd(a[0]!, cli(a, ["del", id, ...flags]));
        return t;
      }),
    );
    const viaSocket = stats(
      await sample(RUNS, async () => {
        const id = `k${i++}`;
        const t = (await timeCmd(
          a[0]!,
          cli(a, ["--socket", sock, "add", id, "/proc/self/ns/net"]),
        )).ms;
        await timeCmd(a[0]!, cli(a, ["--socket", sock, "del", id]));
        return t;
      }),
    );
    // The client alone: a request that runs no plugin (a cache lookup).
    const socketNoPlugin = stats(
      await sample(
        RUNS,
        async () =>
          (await timeCmd(
            a[0]!,
            cli(a, ["--socket", sock, "result", "none"]),
          )).ms,
      ),
    );
    startup[name] = {
      version,
      add,
      addViaSocket: viaSocket,
      socketNoPlugin,
      socketClientOverBareMs: round(socketNoPlugin.median - bare.median),
      rssKb: await peakRss(a[0]!, cli(a, ["version"])),
      versionOverBareMs: round(version.median - bare.median),
      // What add costs beyond its plugins' own time, run itself or as client.
      addOverheadMs: round(add.median - floorAdd.median),
      addViaSocketOverheadMs: round(viaSocket.median - floorAdd.median),
    };
  }
  results.startup = startup;
  console.log(
    `\n1. start-up (ms; the 3 trivial plugins' own ADD time is ${floorAdd.median} ms)`,
  );
  console.table(Object.fromEntries(
    Object.entries(startup).map(([k, v]) => {
      const o = v as Record<string, { median: number; p95: number } | number>;
      const m = (key: string) =>
        (o[key] as { median: number } | undefined)?.median ?? "";
      return [k, {
        "version median": m("version") || (v as { median: number }).median,
        "version p95": (o.version as { p95: number } | undefined)?.p95 ??
          (v as { p95: number }).p95,
        "add median": m("add"),
        "add over plugins": o.addOverheadMs ?? "",
        "--socket add median": m("addViaSocket"),
        "--socket add over plugins": o.addViaSocketOverheadMs ?? "",
        "--socket no-plugin request": m("socketNoPlugin"),
        "peak RSS KB": o.rssKb ?? "",
      }];
    }),
  ));

  // 2. engine overhead: the same three plugins, run directly, are the floor.
  const src = artifacts.at(-1)!;
  let j = 0;
  const through = stats(
    await sample(Math.max(RUNS, 20), async () => {
      const id = `e${j++}`;
      const a = (await timeCmd(
        src[1][0]!,
        cli(src[1], ["add", id, "/proc/self/ns/net", ...flags]),
      )).ms;
      const d =
        (await timeCmd(src[1][0]!, cli(src[1], ["del", id, ...flags]))).ms;
      return a + d;
    }),
  );
  results.engineOverhead = {
    artifact: src[0],
    floor,
    cnishim: through,
    ratio: round(through.median / floor.median),
    overheadMs: round(through.median - floor.median),
    bareDenoMs: bare.median,
  };
  console.log(
    `\n2. engine overhead (${
      src[0]
    }): 3 trivial plugins ADD+DEL directly ${floor.median} ms, through cnishim ${through.median} ms (x${
      round(through.median / floor.median)
    }, +${
      round(through.median - floor.median)
    } ms; bare deno start ${bare.median} ms x2)`,
  );

  // 7. serve: one request per operation, from this process (no process
  // start-up at all), against the plugins' own time.
  const request = async (op: string, req: ServeRequest) => {
    const reply = await sendRequest(sock, op, req);
    if (reply.exitCode !== 0) {
      throw new Error(`serve ${op} exited ${reply.exitCode}: ${reply.stdout}`);
    }
  };
  let k = 0;
  const reqAdds: number[] = [], reqDels: number[] = [];
  await sample(RUNS, async () => {
    const args = [`r${k++}`, "/proc/self/ns/net"];
    let t0 = performance.now();
    await request("add", { args, flags: {} });
    reqAdds.push(performance.now() - t0);
    t0 = performance.now();
    await request("del", { args, flags: {} });
    reqDels.push(performance.now() - t0);
    return 0;
  });
  const roundTrip = stats(
    await sample(RUNS, async () => {
      const t0 = performance.now();
      await request("result", { args: ["none"], flags: {} });
      return performance.now() - t0;
    }),
  );
  const requestAdd = stats(reqAdds.slice(1)),
    requestDel = stats(reqDels.slice(1));
  results.serve = {
    floorAdd,
    floorDel,
    requestAdd,
    requestDel,
    addOverheadMs: round(requestAdd.median - floorAdd.median),
    delOverheadMs: round(requestDel.median - floorDel.median),
    roundTripNoPlugins: roundTrip,
  };
  console.log(
    `\n7. serve, 3 trivial plugins: ADD request ${requestAdd.median} ms vs plugins ${floorAdd.median} ms (+${
      round(requestAdd.median - floorAdd.median)
    } ms); DEL request ${requestDel.median} ms vs ${floorDel.median} ms (+${
      round(requestDel.median - floorDel.median)
    } ms); a request running no plugin ${roundTrip.median} ms`,
  );

  // 3 and 4 need real namespaces.
  if (IS_ROOT) await realPods(src);
  else console.log("\n3./4. skipped: real pods need root");

  // 5. config dir scale
  const big = join(tmp, "conf-200");
  await Deno.mkdir(big);
  for (let i = 0; i < 200; i++) {
    const name = join(big, `${String(i).padStart(3, "0")}-n.conflist`);
    if (i % 3 === 0) await Deno.writeTextFile(name, "{ not json");
    else if (i % 50 === 1) {
      await Deno.writeTextFile(
        name,
        JSON.stringify({
          cniVersion: "1.0.0",
          name: `big${i}`,
          pad: "x".repeat(1024 * 1024 - 200),
          plugins: [{ type: "t1" }],
        }),
      );
    } else {await Deno.writeTextFile(
        name,
        JSON.stringify({
          cniVersion: "1.0.0",
          name: `n${i}`,
          plugins: [{ type: "t1" }, { type: "t2" }],
        }),
      );}
  }
  const scan = stats(
    await sample(10, async () => {
      const t0 = performance.now();
      await loadNetworks(big);
      return performance.now() - t0;
    }),
  );
  await Deno.writeTextFile(
    join(big, "150-n.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "changed",
      plugins: [{ type: "t1" }],
    }),
  );
  const t0 = performance.now();
  await loadNetworks(big);
  const changed = round(performance.now() - t0);
  // What a cold ADD reads now: up to the first valid file only.
  const defaultOnly = stats(
    await sample(10, async () => {
      const t0 = performance.now();
      await loadNetworks(big, { stopWhenFound: [] });
      return performance.now() - t0;
    }),
  );
  // serve's warm set: files older than its racy window are kept parsed.
  const old = new Date(Date.now() - 60_000);
  for await (const e of Deno.readDir(big)) {
    await Deno.utime(join(big, e.name), old, old);
  }
  await using warm = new WarmNetworks(big, { rescanMs: 3_600_000 });
  await warm.start();
  const rescan = stats(
    await sample(10, async () => {
      const t0 = performance.now();
      await warm.rescan();
      return performance.now() - t0;
    }),
  );
  await Deno.writeTextFile(
    join(big, "151-n.conflist"),
    JSON.stringify({ cniVersion: "1.0.0", name: "again", plugins: [] }),
  );
  const t1 = performance.now();
  await warm.rescan();
  const warmChanged = round(performance.now() - t1);
  const cliScan = stats(
    await sample(10, async () =>
      (await timeCmd(
        src[1][0]!,
        cli(src[1], [
          "networks",
          "--cni-conf-dir",
          big,
          "--config",
          NO_CONFIG,
        ]),
      )).ms),
  );
  results.configScale = {
    files: 200,
    inProcess: scan,
    afterOneChangeMs: changed,
    cliNetworks: cliScan,
    defaultOnly,
    warmRescan: rescan,
    warmAfterOneChangeMs: warmChanged,
  };
  console.log(
    `\n5. config dir of 200 files: full scan in-process ${scan.median} ms (after one change ${changed} ms); to the default only (cold ADD) ${defaultOnly.median} ms; serve's warm rescan ${rescan.median} ms (after one change ${warmChanged} ms); 'cnishim networks' ${cliScan.median} ms`,
  );

  // 6. concurrency
  const conc = join(tmp, "cache-conc");
  const start = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: 50 }, async (_, i) => {
      await timeCmd(
        src[1][0]!,
        cli(src[1], [
          "add",
          `c${i}`,
          "/proc/self/ns/net",
          ...shimFlags(trivialBin, trivialConf, conc),
        ]),
      );
      await timeCmd(
        src[1][0]!,
        cli(src[1], [
          "del",
          `c${i}`,
          ...shimFlags(trivialBin, trivialConf, conc),
        ]),
      );
    }),
  );
  const wall = performance.now() - start;
  const errors = outcomes.filter((o) => o.status === "rejected").length;
  // The same through the warm server, 50 concurrent --socket clients.
  const start2 = performance.now();
  const outcomes2 = await Promise.allSettled(
    Array.from({ length: 50 }, async (_, i) => {
      const id = `cs${i}`;
      await timeCmd(
        src[1][0]!,
        cli(src[1], ["--socket", sock, "add", id, "/proc/self/ns/net"]),
      );
      await timeCmd(src[1][0]!, cli(src[1], ["--socket", sock, "del", id]));
    }),
  );
  const wall2 = performance.now() - start2;
  const errors2 = outcomes2.filter((o) => o.status === "rejected").length;
  results.concurrency = {
    pods: 50,
    wallMs: round(wall),
    podsPerSecond: round(50 / (wall / 1000)),
    errors,
    viaSocket: {
      wallMs: round(wall2),
      podsPerSecond: round(50 / (wall2 / 1000)),
      errors: errors2,
    },
  };
  console.log(
    `\n6. 50 concurrent pods (trivial chain): ${round(wall)} ms, ${
      round(50 / (wall / 1000))
    } pods/s add+del, errors ${errors}; as --socket clients ${
      round(wall2)
    } ms, ${round(50 / (wall2 / 1000))} pods/s, errors ${errors2}`,
  );

  // The goals of issue 6, against the floors of this run.
  const st = startup as Record<
    string,
    { addOverheadMs?: number; addViaSocketOverheadMs?: number }
  >;
  const shipped = artifacts.find(([n]) => n !== "source")?.[0] ?? "source";
  const goals: Record<string, unknown> = {};
  const goal = (name: string, value: number | undefined, limit: number) => {
    goals[name] = {
      value: value ?? null,
      limit: round(limit),
      met: value !== undefined && value <= limit,
    };
  };
  goal(
    `add overhead over its plugins, ${shipped} (ms, <= bare deno + 5)`,
    st[shipped]?.addOverheadMs,
    bare.median + 5,
  );
  goal(
    `add overhead over its plugins, ${shipped} --socket client (ms, <= bare deno + 5)`,
    st[shipped]?.addViaSocketOverheadMs,
    bare.median + 5,
  );
  goal(
    `--socket client process alone over bare deno, ${shipped} (ms, <= 5)`,
    (st[shipped] as { socketClientOverBareMs?: number } | undefined)
      ?.socketClientOverBareMs,
    5,
  );
  const sv = results.serve as {
    addOverheadMs: number;
    delOverheadMs: number;
    roundTripNoPlugins: { median: number };
  };
  goal(
    "serve transport alone: a request running no plugin (ms, <= 2)",
    sv.roundTripNoPlugins.median,
    2,
  );
  goal("serve request overhead, ADD (ms, <= 2)", sv.addOverheadMs, 2);
  goal("serve request overhead, DEL (ms, <= 2)", sv.delOverheadMs, 2);
  const mn = results.multiNetwork as
    | { parallelOverSlowest: number; serveParallelOverSlowest: number }
    | undefined;
  goal(
    "3-network pod over the slowest single network, CLI (<= 1.2)",
    mn?.parallelOverSlowest,
    1.2,
  );
  goal(
    "3-network pod over the slowest single network, serve (<= 1.2)",
    mn?.serveParallelOverSlowest,
    1.2,
  );
  results.goals = goals;
  console.log("\ngoals of issue 6");
  console.table(goals);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(ROOT, "bench"), { recursive: true });
  await Deno.writeTextFile(
    join(ROOT, "bench/results.json"),
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log("\nwrote bench/results.json");
}

async function sh(cmd: string, ...args: string[]) {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

// `cnishim serve` from source (the artifact does not matter to a warm
// server), stopped with SIGTERM at the end of the run.
async function startServer(socket: string, flags: string[]): Promise<void> {
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      join(ROOT, "src/main.ts"),
      "serve",
      "--socket",
      socket,
      ...flags,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await child.status;
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      (await Deno.connect({ transport: "unix", path: socket })).close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`no server on ${socket}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function realPods(src: [string, string[]]) {
  const cli = (extra: string[]) => [...src[1].slice(1), ...extra];
  const ns = (i: number) => `cnishim-bench-${i}`;
  const PODS = 20;
  const conf = (name: string, bridge: string, subnet: string) => ({
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "bridge",
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: "host-local",
          dataDir: join(tmp, "ipam"),
          ranges: [[{ subnet }]],
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "tuning", sysctl: { "net.core.somaxconn": "512" } },
    ],
  });
  const confDir = join(tmp, "conf-real");
  await Deno.mkdir(confDir);
  const nets = [
    conf("bench0", "cnbench0", "10.244.200.0/24"),
    conf("bench1", "cnbench1", "10.244.201.0/24"),
    conf("bench2", "cnbench2", "10.244.202.0/24"),
  ];
  for (const [i, n] of nets.entries()) {
    await Deno.writeTextFile(
      join(confDir, `${10 + i}-${n.name}.conflist`),
      JSON.stringify(n),
    );
  }
  cleanups.push(async () => {
    for (const b of ["cnbench0", "cnbench1", "cnbench2"]) {
      await sh("ip", "link", "del", b).catch(() => {});
    }
  });
  for (let i = 0; i < PODS; i++) {
    await sh("ip", "netns", "add", ns(i));
    cleanups.push(() => sh("ip", "netns", "del", ns(i)));
  }
  const flags = shimFlags(PLUGINS, confDir, join(tmp, "cache-real"));
  const sock = join(tmp, "run", "real.sock");
  await startServer(
    sock,
    shimFlags(PLUGINS, confDir, join(tmp, "cache-real-serve")),
  );
  const served = async (op: string, args: string[], f = {}) => {
    const t0 = performance.now();
    const reply = await sendRequest(sock, op, { args, flags: f });
    if (reply.exitCode !== 0) {
      throw new Error(`serve ${op} exited ${reply.exitCode}: ${reply.stdout}`);
    }
    return performance.now() - t0;
  };
  // Floor: the same plugins, same stdin chain, run directly.
  const run = async (
    type: string,
    command: string,
    id: string,
    netns: string,
    ifName: string,
    stdin: unknown,
  ) =>
    await timeCmd(join(PLUGINS, type), [], {
      stdin: JSON.stringify(stdin),
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: id,
        CNI_NETNS: netns,
        CNI_IFNAME: ifName,
        CNI_PATH: PLUGINS,
        PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      },
    });
  const directPod = async (
    net: typeof nets[number],
    i: number,
    ifName: string,
  ) => {
    const id = `direct${i}`;
    let prev: unknown;
    let add = 0;
    for (const p of net.plugins) {
      const r = await run(
        p.type,
        "ADD",
        id,
        `/var/run/netns/${ns(i)}`,
        ifName,
        {
          ...p,
          name: net.name,
          cniVersion: net.cniVersion,
          ...(prev ? { prevResult: prev } : {}),
        },
      );
      add += r.ms;
      prev = JSON.parse(r.stdout);
    }
    let del = 0;
    for (const p of [...net.plugins].reverse()) {
      del += (await run(p.type, "DEL", id, `/var/run/netns/${ns(i)}`, ifName, {
        ...p,
        name: net.name,
        cniVersion: net.cniVersion,
        prevResult: prev,
      })).ms;
    }
    return { add, del };
  };
  const dAdd: number[] = [],
    dDel: number[] = [],
    cAdd: number[] = [],
    cDel: number[] = [],
    sAdd: number[] = [],
    sDel: number[] = [];
  for (let i = 0; i < PODS; i++) {
    const d = await directPod(nets[0]!, i, "eth0");
    dAdd.push(d.add);
    dDel.push(d.del);
    cAdd.push(
      (await timeCmd(
        src[1][0]!,
        cli(["add", `pod${i}`, `/var/run/netns/${ns(i)}`, ...flags]),
      )).ms,
    );
    cDel.push(
      (await timeCmd(
        src[1][0]!,
        cli(["del", `pod${i}`, `/var/run/netns/${ns(i)}`, ...flags]),
      )).ms,
    );
    sAdd.push(await served("add", [`spod${i}`, `/var/run/netns/${ns(i)}`]));
    sDel.push(await served("del", [`spod${i}`, `/var/run/netns/${ns(i)}`]));
  }
  const realPod = {
    pods: PODS,
    directAdd: stats(dAdd),
    directDel: stats(dDel),
    cnishimAdd: stats(cAdd),
    cnishimDel: stats(cDel),
    serveAdd: stats(sAdd),
    serveDel: stats(sDel),
  };
  results.realPod = {
    ...realPod,
    addRatio: round(realPod.cnishimAdd.median / realPod.directAdd.median),
    delRatio: round(realPod.cnishimDel.median / realPod.directDel.median),
    serveAddRatio: round(realPod.serveAdd.median / realPod.directAdd.median),
    serveDelRatio: round(realPod.serveDel.median / realPod.directDel.median),
  };
  console.log(
    `\n3. real pod (bridge+host-local, portmap, tuning; ${PODS} pods): ADD direct ${realPod.directAdd.median} ms, cnishim ${realPod.cnishimAdd.median} ms (x${
      round(realPod.cnishimAdd.median / realPod.directAdd.median)
    }); DEL direct ${realPod.directDel.median} ms, cnishim ${realPod.cnishimDel.median} ms (x${
      round(realPod.cnishimDel.median / realPod.directDel.median)
    }); through serve ADD ${realPod.serveAdd.median} ms (x${
      round(realPod.serveAdd.median / realPod.directAdd.median)
    }), DEL ${realPod.serveDel.median} ms (x${
      round(realPod.serveDel.median / realPod.directDel.median)
    })`,
  );

  // 4. three networks per pod: the slowest single network is the floor.
  const ann = JSON.stringify({
    "network.alpha.kubernetes.io/network": JSON.stringify([{
      name: "bench1",
      interface: "eth1",
    }, { name: "bench2", interface: "eth2" }]),
  });
  const single: number[] = [],
    par: number[] = [],
    ser: number[] = [],
    sPar: number[] = [];
  for (let i = 0; i < 10; i++) {
    const n = `/var/run/netns/${ns(i)}`;
    let slowest = 0;
    for (const [k, net] of nets.entries()) {
      slowest = Math.max(slowest, (await directPod(net, i, `eth${k}`)).add);
    }
    single.push(slowest);
    par.push(
      (await timeCmd(
        src[1][0]!,
        cli(["add", `m${i}`, n, "--annotations", ann, ...flags]),
      )).ms,
    );
    await timeCmd(src[1][0]!, cli(["del", `m${i}`, n, ...flags]));
    ser.push(
      (await timeCmd(
        src[1][0]!,
        cli(["add", `m${i}`, n, "--annotations", ann, "--serial", ...flags]),
      )).ms,
    );
    await timeCmd(src[1][0]!, cli(["del", `m${i}`, n, ...flags]));
    sPar.push(await served("add", [`sm${i}`, n], { annotations: ann }));
    await served("del", [`sm${i}`, n]);
  }
  const m = {
    slowestSingleDirect: stats(single),
    parallel: stats(par),
    serial: stats(ser),
    serveParallel: stats(sPar),
  };
  results.multiNetwork = {
    ...m,
    parallelOverSlowest: round(
      m.parallel.median / m.slowestSingleDirect.median,
    ),
    serialOverSlowest: round(m.serial.median / m.slowestSingleDirect.median),
    serveParallelOverSlowest: round(
      m.serveParallel.median / m.slowestSingleDirect.median,
    ),
  };
  console.log(
    `\n4. 3-network pod: slowest single network direct ${m.slowestSingleDirect.median} ms; cnishim parallel ${m.parallel.median} ms (x${
      round(m.parallel.median / m.slowestSingleDirect.median)
    }), serial ${m.serial.median} ms (x${
      round(m.serial.median / m.slowestSingleDirect.median)
    }); through serve parallel ${m.serveParallel.median} ms (x${
      round(m.serveParallel.median / m.slowestSingleDirect.median)
    })`,
  );
}
