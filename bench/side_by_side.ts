/**
 * Figure 8, side by side with the peer a user would pick instead (issue
 * 15): the reference Go libcni, one process per call as a runtime that
 * execs a helper. One real pod per round (bridge + host-local, portmap
 * with one mapping, tuning), ADD then DEL by every side in turn, the order
 * rotated from pod to pod so that no side always follows the same one:
 *
 * - the plugins run directly (the floor),
 * - Go libcni (bench/libcni_driver),
 * - the Deno floor (bench/deno_driver.ts): the least a Deno program run
 *   once per call does for the same work, so that the CLI's distance to
 *   Go splits into Deno's share (start-up, its process and stream
 *   machinery) and cnishim's own,
 * - the cnishim CLI, each built artifact (bundle, compiled binary),
 * - the `--socket` client of the shipped artifact to `serve`,
 * - `serve` reached by a raw HTTP request from this process (and serve's
 *   own share of each request: its time minus its plugins' time as serve's
 *   metrics timed them, free of the plugins' run-to-run variance),
 * - `serve`'s hook endpoint posted the raw OCI state by curl (the
 *   thinnest hook client; its pod is a sleeping process in a namespace of
 *   its own, and its DEL, a poststop, runs without a netns as a runtime's
 *   does).
 *
 * With a baseline (another git ref, `BENCH_BASELINE`), its CLI and its
 * `serve` are two more sides of the same rounds: a change's before and
 * after, interleaved.
 *
 * Then a pod on the three networks through `serve`, against the three
 * chains run concurrently and directly. Ratios are taken per pod (the
 * machine is noisy and shared; a pod's sides ran back to back), then the
 * median.
 *
 * @module
 */
import { join } from "node:path";
import { round, sh, type Stats, stats, timeCmd } from "./_harness.ts";
import {
  type Artifact,
  type BenchBed,
  bundleArgv,
  PLUGINS,
  ROOT,
} from "./_fixtures.ts";
import type { RealBed } from "./_real_bed.ts";
import type { GoPeer } from "./_go_peer.ts";
import type { Baseline } from "./_baseline.ts";
import { fetchMetrics } from "../src/serve/client.ts";

/** One side: per-pod medians, and its ratio to Go libcni. */
export interface Side {
  /** ADD. */
  add: Stats;
  /** DEL. */
  del: Stats;
  /** ADD + DEL of one pod. */
  both: Stats;
  /** The median over pods of (this side's ADD+DEL / Go's); null without Go. */
  overGo: number | null;
  /** The same for ADD alone. */
  addOverGo: number | null;
}

/** The 3-network pod through serve against its chains run concurrently. */
export interface ThreeNetworks {
  /** How many pods. */
  pods: number;
  /** The three chains run directly, at once. */
  concurrentDirect: { add: Stats; del: Stats; both: Stats };
  /** One ADD and one DEL request to serve. */
  serve: { add: Stats; del: Stats; both: Stats };
  /** Median over pods of serve / concurrent direct, ADD+DEL. */
  ratio: number;
  /** The same for ADD alone. */
  addRatio: number;
  /** The baseline's serve, when one was timed. */
  baselineServe?: { add: Stats; del: Stats; both: Stats };
  /** Its ratio as {@link ratio}. */
  baselineRatio?: number;
}

/** Figure 8. */
export interface SideBySide {
  /** How many pods per side. */
  pods: number;
  /** The Go peer measured (`go version`, libcni's), or why it was not. */
  peer: string;
  /** Whether Go libcni was measured. */
  goMeasured: boolean;
  /** The sides by name, in the order printed. */
  sides: Record<string, Side>;
  /**
   * Median over pods of serve (raw HTTP) minus the floor run at another
   * moment, per verb, ms: plugin variance (portmap's DEL alone swings by
   * tens of ms) lands here too.
   */
  serveOverFloorMs: { add: number; del: number };
  /**
   * Median over pods of a serve request (raw HTTP, as this process timed
   * it) minus the time its own plugins took, spawn to exit, as serve timed
   * them (its metrics): what serve adds to a verb, free of the plugins'
   * variance. The goal's measure.
   */
  serveOverPluginsMs: { add: number; del: number };
  /**
   * Where the CLI's time goes, per verb (medians over pods, ms): the Deno
   * floor over Go libcni (Deno's share), and the shipped CLI over the Deno
   * floor (cnishim's own); null without Go.
   */
  cliSplitMs: {
    denoOverGo: { add: number; del: number } | null;
    cliOverDeno: { add: number; del: number };
  };
  /** The 3-network pod. */
  threeNetworks: ThreeNetworks;
  /** The baseline's label, when one was timed. */
  baseline?: string;
}

/** The names of the sides the goals judge. */
export const SIDES = {
  floor: "plugins directly (floor)",
  go: "Go libcni, one process per call",
  deno: "Deno floor, one process per call",
  cli: (artifact: string) => `cnishim CLI (${artifact})`,
  socket: (artifact: string) => `--socket client (${artifact})`,
  serve: "serve, raw HTTP (no client process)",
  hook: "hook through curl (raw OCI state)",
  baseServe: (label: string) => `serve @ ${label}, raw HTTP`,
} as const;

const PORT_MAPPINGS = [{ hostPort: 39080, containerPort: 80, protocol: "tcp" }];
const CAPABILITY_ARGS = { portMappings: PORT_MAPPINGS };
const THREE_NETWORK_PODS = 20;
// Pods per side: portmap's DEL alone swings by tens of ms from call to call,
// so the median of per-pod ratios wants more pods than there are namespaces.
const PODS = 40;

type Timed = { add: number; del: number };
type Runner = (i: number) => Promise<Timed>;

/** Measures figure 8 on the real bed, with `baseline`'s sides if given. */
export async function measureSideBySide(
  bed: BenchBed,
  real: RealBed,
  peer: GoPeer,
  baseline?: Baseline,
): Promise<SideBySide> {
  const net = real.nets[0]!;
  const pm = JSON.stringify(PORT_MAPPINGS);
  const runners: [string, Runner][] = [
    [SIDES.floor, (i) => real.directPod(net, i, "eth0", CAPABILITY_ARGS)],
  ];
  // The Go peer and the Deno floor share a command line (libcni_driver's),
  // one process per call.
  const driver = (
    argv: readonly string[],
    cache: string,
    key: string,
  ): Runner => {
    const [cmd, ...lead] = argv;
    const call = async (command: string, i: number) =>
      (await timeCmd(cmd!, [
        ...lead,
        command,
        real.confDir,
        PLUGINS,
        cache,
        `${key}${i}`,
        real.netns(i),
        "eth0",
        JSON.stringify(CAPABILITY_ARGS),
      ])).ms;
    return async (i) => ({
      add: await call("ADD", i),
      del: await call("DEL", i),
    });
  };
  if ("driver" in peer) {
    runners.push([
      SIDES.go,
      driver([peer.driver], join(bed.tmp, "cache-go"), "go"),
    ]);
  }
  runners.push([
    SIDES.deno,
    driver(
      bundleArgv(join(ROOT, "bench/deno_driver.ts")),
      join(bed.tmp, "cache-deno-floor"),
      "df",
    ),
  ]);
  const cliOf =
    (a: Artifact, key: string, flags = real.flags): Runner => async (i) => ({
      add: await bed.time(a, [
        "add",
        `${key}${i}`,
        real.netns(i),
        "--port-mappings",
        pm,
        ...flags,
      ]),
      del: await bed.time(a, ["del", `${key}${i}`, real.netns(i), ...flags]),
    });
  for (const [k, a] of bed.artifacts.entries()) {
    if (a.name !== "source") {
      runners.push([SIDES.cli(a.name), cliOf(a, `c${k}`)]);
    }
  }
  const shipped = bed.shipped;
  runners.push([SIDES.socket(shipped.name), async (i) => ({
    add: await bed.time(shipped, [
      "--socket",
      real.socket,
      "add",
      `k${i}`,
      real.netns(i),
      "--port-mappings",
      pm,
    ]),
    del: await bed.time(shipped, [
      "--socket",
      real.socket,
      "del",
      `k${i}`,
      real.netns(i),
    ]),
  })]);
  // Each verb's plugin time as serve timed it, from its metrics read before
  // and after the request (outside the timed window).
  const servePluginMs: Timed[] = [];
  const serveOf =
    (socket: string, key: string, own?: Timed[]): Runner => async (i) => {
      const args = [`${key}${i}`, real.netns(i)];
      const verb = async (op: "add" | "del", flags: Record<string, string>) => {
        const before = own ? await pluginSeconds(socket) : undefined;
        const ms = await bed.request(socket, op, { args, flags });
        const plugins = before
          ? (await pluginSeconds(socket))[op] - before[op]
          : 0;
        return { ms, pluginMs: plugins * 1000 };
      };
      const add = await verb("add", { "port-mappings": pm });
      const del = await verb("del", {});
      own?.push({ add: add.pluginMs, del: del.pluginMs });
      return { add: add.ms, del: del.ms };
    };
  runners.push([SIDES.serve, serveOf(real.socket, "r", servePluginMs)]);
  if (baseline) {
    runners.push([
      SIDES.cli(baseline.bundle.name),
      cliOf(baseline.bundle, "bc", baseline.flags),
    ]);
    runners.push([
      SIDES.baseServe(baseline.label),
      serveOf(baseline.socket, "br"),
    ]);
  }
  runners.push([SIDES.hook, (i) => hookThroughCurl(real, i, pm)]);

  // One warm-up round, then pod by pod, each side in turn.
  for (const [, run] of runners) await run(0);
  const samples = new Map<string, Timed[]>(runners.map(([n]) => [n, []]));
  for (let i = 0; i < PODS; i++) {
    for (let j = 0; j < runners.length; j++) {
      const [name, run] = runners[(i + j) % runners.length]!;
      samples.get(name)!.push(await run(i));
    }
  }
  const goSamples = samples.get(SIDES.go);
  const sides: Record<string, Side> = {};
  for (const [name] of runners) {
    const xs = samples.get(name)!;
    const perPod = (f: (t: Timed) => number) =>
      goSamples
        ? round(median(xs.map((t, i) => f(t) / f(goSamples[i]!))))
        : null;
    sides[name] = {
      add: stats(xs.map((t) => t.add)),
      del: stats(xs.map((t) => t.del)),
      both: stats(xs.map((t) => t.add + t.del)),
      overGo: perPod((t) => t.add + t.del),
      addOverGo: perPod((t) => t.add),
    };
  }
  const floor = samples.get(SIDES.floor)!, served = samples.get(SIDES.serve)!;
  // Per pod, then the median: a pod's sides ran back to back.
  const minus = (xs: Timed[], base: Timed[]) => ({
    add: round(median(xs.map((t, i) => t.add - base[i]!.add))),
    del: round(median(xs.map((t, i) => t.del - base[i]!.del))),
  });
  const denoSamples = samples.get(SIDES.deno)!;
  // The bench always has a bundle: the shipped artifact is never the source.
  const shippedCli = samples.get(SIDES.cli(shipped.name))!;
  return {
    pods: PODS,
    peer: "driver" in peer ? `${peer.goVersion}, ${peer.libcni}` : peer.skipped,
    goMeasured: goSamples !== undefined,
    sides,
    serveOverFloorMs: minus(served, floor),
    // The warm-up round is not in the samples; its plugin times are.
    serveOverPluginsMs: minus(served, servePluginMs.slice(1)),
    cliSplitMs: {
      denoOverGo: goSamples ? minus(denoSamples, goSamples) : null,
      cliOverDeno: minus(shippedCli, denoSamples),
    },
    threeNetworks: await measureThreeNetworks(bed, real, baseline),
    ...(baseline ? { baseline: baseline.label } : {}),
  };
}

// A pod on bench0 (eth0), bench1 (eth1), bench2 (eth2) through serve (and
// the baseline's), against the three chains run at once, rotating which
// goes first.
async function measureThreeNetworks(
  bed: BenchBed,
  real: RealBed,
  baseline?: Baseline,
): Promise<ThreeNetworks> {
  const annotations = JSON.stringify({
    "network.alpha.kubernetes.io/network": JSON.stringify([
      { name: "bench1", interface: "eth1" },
      { name: "bench2", interface: "eth2" },
    ]),
  });
  const viaServe =
    (socket: string, key: string) => async (i: number): Promise<Timed> => {
      const args = [`${key}${i}`, real.netns(i)];
      return {
        add: await bed.request(socket, "add", {
          args,
          flags: { annotations },
        }),
        del: await bed.request(socket, "del", { args, flags: {} }),
      };
    };
  const runners: Runner[] = [
    (i) => real.directPods(real.nets, i),
    viaServe(real.socket, "t"),
    ...(baseline ? [viaServe(baseline.socket, "bt")] : []),
  ];
  for (const run of runners.slice(1)) await run(0);
  const xs: Timed[][] = runners.map(() => []);
  for (let i = 0; i < THREE_NETWORK_PODS; i++) {
    for (let j = 0; j < runners.length; j++) {
      const k = (i + j) % runners.length;
      xs[k]!.push(await runners[k]!(i));
    }
  }
  const three = (ts: Timed[]) => ({
    add: stats(ts.map((t) => t.add)),
    del: stats(ts.map((t) => t.del)),
    both: stats(ts.map((t) => t.add + t.del)),
  });
  const [direct, served, based] = xs as [Timed[], Timed[], Timed[]?];
  const ratio = (ts: Timed[], f: (t: Timed) => number) =>
    round(median(ts.map((t, i) => f(t) / f(direct[i]!))));
  return {
    pods: THREE_NETWORK_PODS,
    concurrentDirect: three(direct),
    serve: three(served),
    ratio: ratio(served, (t) => t.add + t.del),
    addRatio: ratio(served, (t) => t.add),
    ...(based
      ? {
        baselineServe: three(based),
        baselineRatio: ratio(based, (t) => t.add + t.del),
      }
      : {}),
  };
}

// The hook as a runtime runs it: the container is a process in a fresh
// namespace (set up and removed untimed); createRuntime posts its state
// with its pid, poststop with status stopped.
async function hookThroughCurl(
  real: RealBed,
  i: number,
  pm: string,
): Promise<Timed> {
  const ns = `${real.netnsName(i)}-h`;
  await sh("ip", "netns", "add", ns);
  const sleeper = new Deno.Command("nsenter", {
    args: [`--net=/var/run/netns/${ns}`, "sleep", "600"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForNetns(sleeper.pid, ns);
    const curl = (state: Record<string, unknown>) =>
      timeCmd("curl", [
        "--unix-socket",
        real.socket,
        "-sS",
        "--fail-with-body",
        "--data-binary",
        "@-",
        "http://cnishim/v1/hook",
      ], { stdin: JSON.stringify(state) });
    const base = {
      ociVersion: "1.0.2",
      id: `h${i}`,
      bundle: `/run/bench/h${i}`,
      annotations: { "cnishim.io/port-mappings": pm },
    };
    const add = (await curl({ ...base, status: "creating", pid: sleeper.pid }))
      .ms;
    const del = (await curl({ ...base, status: "stopped" })).ms;
    return { add, del };
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
    await sh("ip", "netns", "del", ns).catch(() => {});
  }
}

// nsenter enters the namespace, then execs sleep: wait for the second.
async function waitForNetns(pid: number, ns: string): Promise<void> {
  const want = (await Deno.stat(`/var/run/netns/${ns}`)).ino;
  for (let tries = 0; tries < 500; tries++) {
    const now = await Deno.stat(`/proc/${pid}/ns/net`).catch(() => undefined);
    if (now?.ino === want) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`pid ${pid} never entered ${ns}`);
}

// serve's plugin time so far, seconds, per verb: the sums of its
// cnishim_plugin_exec_duration_seconds histogram.
async function pluginSeconds(
  socket: string,
): Promise<{ add: number; del: number }> {
  const text = await fetchMetrics(socket);
  const sum = (command: string) =>
    text.split("\n")
      .filter((l) =>
        l.startsWith("cnishim_plugin_exec_duration_seconds_sum{") &&
        l.includes(`command="${command}"`)
      )
      .reduce((total, l) => total + Number(l.split(" ").at(-1)), 0);
  return { add: sum("ADD"), del: sum("DEL") };
}

function median(xs: number[]): number {
  return stats(xs).median;
}

/** Figure 8 as lines: one per side, then the 3-network pod. */
export function describeSideBySide(f: SideBySide): string {
  const rows = Object.entries(f.sides).map(([name, s]) =>
    `  ${name.padEnd(40)} ADD ${fmt(s.add.median)}  DEL ${
      fmt(s.del.median)
    }  ADD+DEL ${fmt(s.both.median)}  vs Go ${
      s.overGo === null ? "-" : `x${s.overGo.toFixed(2)}`
    } (ADD x${s.addOverGo?.toFixed(2) ?? "-"})`
  );
  const t = f.threeNetworks;
  return [
    `8. side by side, real pod (bridge+host-local, portmap with one mapping, tuning; ${f.pods} pods, sides interleaved; ms, medians; vs Go = median of per-pod ratios)`,
    `  peer: ${f.peer}`,
    ...rows,
    `  serve over the plugins' own time (as serve timed them): ADD +${f.serveOverPluginsMs.add} ms, DEL +${f.serveOverPluginsMs.del} ms; over the floor run directly: ADD +${f.serveOverFloorMs.add} ms, DEL +${f.serveOverFloorMs.del} ms`,
    `  where the CLI's time goes, per verb: Deno's share (Deno floor over Go) ${
      f.cliSplitMs.denoOverGo
        ? `ADD +${f.cliSplitMs.denoOverGo.add} ms, DEL +${f.cliSplitMs.denoOverGo.del} ms`
        : "- (no Go)"
    }; cnishim's own (CLI over the Deno floor) ADD +${f.cliSplitMs.cliOverDeno.add} ms, DEL +${f.cliSplitMs.cliOverDeno.del} ms`,
    `  3-network pod (${t.pods} pods): three chains at once directly ADD ${t.concurrentDirect.add.median} DEL ${t.concurrentDirect.del.median}; through serve ADD ${t.serve.add.median} DEL ${t.serve.del.median} (x${t.ratio}, ADD x${t.addRatio})${
      t.baselineServe
        ? `; through serve @ ${f.baseline} ADD ${t.baselineServe.add.median} DEL ${t.baselineServe.del.median} (x${t.baselineRatio})`
        : ""
    }`,
  ].join("\n");
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(6);
}
