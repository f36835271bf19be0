/**
 * Figure 10 (issue 20): cnishim as the runtime's one CNI plugin, driven by
 * the Go libcni peer as containerd's go-cni drives a conf dir. One real pod
 * per round (bridge + host-local, portmap with one mapping, tuning), ADD
 * then DEL by each side in turn, the order rotated from pod to pod:
 *
 * - the chain as the runtime's own conflist (libcni runs it),
 * - the same chain through `"type": "cnishim"` in thin mode (the packaged
 *   forwarder execs the shipped artifact, which runs the chain in-process),
 * - the same through the thick mode (the compiled forwarder posts the
 *   call to `cnishim serve`).
 *
 * Ratios are per pod (a pod's sides ran back to back), then the median;
 * the goals are thin ≤ 1.20× and thick ≤ 1.05× of the runtime's own
 * conflist. Also what the runtime's exec of the forwarder costs by itself
 * (a DEL of a pod nobody set up: nothing but the front end runs), next to
 * a bare Deno start of the shipped artifact.
 *
 * @module
 */
import { join } from "node:path";
import { round, type Stats, stats, timeCmd } from "./_harness.ts";
import { type BenchBed, PLUGINS } from "./_fixtures.ts";
import type { RealBed } from "./_real_bed.ts";
import type { GoPeer } from "./_go_peer.ts";
import type { Goal } from "./goals.ts";
import { buildForwarder } from "../scripts/_forwarder.ts";

/** One side of the figure. */
export interface FrontEndSide {
  /** ADD. */
  add: Stats;
  /** DEL. */
  del: Stats;
  /** ADD + DEL of one pod. */
  both: Stats;
  /** Median over pods of ADD+DEL over the runtime's own conflist's. */
  overOwn: number;
}

/** Figure 10. */
export interface FrontEnd {
  /** How many pods per side. */
  pods: number;
  /** The peer driving every side, or why there was none. */
  peer: string;
  /** The sides by name (empty without the Go peer). */
  sides: Record<string, FrontEndSide>;
  /**
   * What one exec of the front end costs with nothing to run (medians,
   * ms): the shipped artifact's VERSION started directly, the forwarder
   * (then exec of the artifact) answering VERSION, and a DEL of a pod
   * nobody set up through the forwarder, thin (forwarder + the artifact's
   * process) and thick (forwarder + serve's work).
   */
  exec: {
    artifactVersion: Stats;
    forwarderVersion: Stats;
    thinEmptyDel: Stats;
    thickEmptyDel: Stats;
  };
  /** thin ≤ 1.20×, thick ≤ 1.05× of the runtime's own conflist. */
  goals: Record<string, Goal>;
}

/** The side names. */
export const FRONT_END_SIDES = {
  own: "the chain as the runtime's own conflist",
  thin: "through the cnishim plugin, thin",
  thick: "through the cnishim plugin, thick (forwarder to serve)",
} as const;

const PODS = Number(Deno.env.get("BENCH_FRONT_END_PODS") ?? 24);
const EXEC_RUNS = 20;
const CAPABILITY_ARGS = {
  portMappings: [{ hostPort: 39180, containerPort: 80, protocol: "tcp" }],
};

type Timed = { add: number; del: number };

/** Measures figure 10 on the real bed with the Go peer. */
export async function measureFrontEnd(
  bed: BenchBed,
  real: RealBed,
  peer: GoPeer,
): Promise<FrontEnd> {
  const root = join(bed.tmp, "front-end");
  const socket = join(root, "run", "cnishim.sock");
  // The runtime's conf dir and bin dir of each front-end side.
  const side = async (name: string, thick: boolean) => {
    const dir = join(root, name);
    const conf = join(dir, "net.d"), bin = join(dir, "bin");
    const cache = join(dir, "cache");
    await Deno.mkdir(conf, { recursive: true });
    await Deno.mkdir(bin, { recursive: true });
    await Deno.writeTextFile(
      join(conf, "00-cnishim.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "cnishim",
        plugins: [{
          type: "cnishim",
          confDir: real.confDir,
          binDir: PLUGINS,
          cacheDir: thick ? join(root, "thick-cache") : cache,
          config: bed.noConfig,
          ...(thick ? { socket } : {}),
          capabilities: { portMappings: true },
        }],
      }),
    );
    await buildForwarder(
      bed.shipped.argv,
      thick ? socket : join(root, "no-server.sock"),
      join(bin, "cnishim"),
    );
    return { conf, bin, cache: join(dir, "libcni-cache") };
  };
  const thin = await side("thin", false);
  const thick = await side("thick", true);
  await bed.startServer(socket, [
    "--cni-conf-dir",
    real.confDir,
    "--cni-bin-dir",
    PLUGINS,
    "--cni-cache-dir",
    join(root, "thick-cache"),
    "--config",
    bed.noConfig,
  ]);

  const exec = await measureExec(bed, thin.bin, thick.bin);
  if (!("driver" in peer)) {
    return { pods: 0, peer: peer.skipped, sides: {}, exec, goals: {} };
  }
  const driver = (conf: string, bin: string, cache: string, key: string) => {
    const call = async (command: string, i: number) =>
      (await timeCmd(peer.driver, [
        command,
        conf,
        bin,
        cache,
        `${key}${i}`,
        real.netns(i),
        "eth0",
        JSON.stringify(CAPABILITY_ARGS),
      ])).ms;
    return async (i: number): Promise<Timed> => ({
      add: await call("ADD", i),
      del: await call("DEL", i),
    });
  };
  const runners: [string, (i: number) => Promise<Timed>][] = [
    [
      FRONT_END_SIDES.own,
      driver(real.confDir, PLUGINS, join(root, "own-cache"), "fo"),
    ],
    [FRONT_END_SIDES.thin, driver(thin.conf, thin.bin, thin.cache, "ft")],
    [FRONT_END_SIDES.thick, driver(thick.conf, thick.bin, thick.cache, "fk")],
  ];
  for (const [, run] of runners) await run(0);
  const samples = new Map<string, Timed[]>(runners.map(([n]) => [n, []]));
  for (let i = 0; i < PODS; i++) {
    for (let j = 0; j < runners.length; j++) {
      const [name, run] = runners[(i + j) % runners.length]!;
      samples.get(name)!.push(await run(i));
    }
  }
  const own = samples.get(FRONT_END_SIDES.own)!;
  const sides: Record<string, FrontEndSide> = {};
  for (const [name] of runners) {
    const xs = samples.get(name)!;
    sides[name] = {
      add: stats(xs.map((t) => t.add)),
      del: stats(xs.map((t) => t.del)),
      both: stats(xs.map((t) => t.add + t.del)),
      overOwn: round(
        stats(xs.map((t, i) => (t.add + t.del) / (own[i]!.add + own[i]!.del)))
          .median,
      ),
    };
  }
  const goal = (value: number, limit: number): Goal => ({
    value,
    limit,
    met: value <= limit,
  });
  return {
    pods: PODS,
    peer: `${peer.goVersion}, ${peer.libcni}`,
    sides,
    exec,
    goals: {
      "front end thin / runtime's own conflist (ADD+DEL)": goal(
        sides[FRONT_END_SIDES.thin]!.overOwn,
        1.2,
      ),
      "front end thick / runtime's own conflist (ADD+DEL)": goal(
        sides[FRONT_END_SIDES.thick]!.overOwn,
        1.05,
      ),
    },
  };
}

// The runtime's exec with nothing behind it, interleaved.
async function measureExec(
  bed: BenchBed,
  thinBin: string,
  thickBin: string,
): Promise<FrontEnd["exec"]> {
  const [cmd, ...lead] = bed.shipped.argv;
  const del = (bin: string, i: number, conf: string) =>
    timeCmd(join(bin, "cnishim"), [], {
      stdin: conf,
      env: {
        CNI_COMMAND: "DEL",
        CNI_CONTAINERID: `never-set-up-${i}`,
        CNI_NETNS: "",
        CNI_IFNAME: "eth0",
        CNI_PATH: bin,
      },
    });
  const confOf = async (bin: string) =>
    await Deno.readTextFile(join(bin, "..", "net.d", "00-cnishim.conflist"))
      .then((t) => {
        const list = JSON.parse(t);
        return JSON.stringify({
          cniVersion: list.cniVersion,
          name: list.name,
          ...list.plugins[0],
        });
      });
  const thinConf = await confOf(thinBin), thickConf = await confOf(thickBin);
  const xs = {
    a: [] as number[],
    f: [] as number[],
    t: [] as number[],
    k: [] as number[],
  };
  for (let i = 0; i <= EXEC_RUNS; i++) {
    const a = (await timeCmd(cmd, lead, { env: { CNI_COMMAND: "VERSION" } }))
      .ms;
    const f = (await timeCmd(join(thinBin, "cnishim"), [], {
      env: { CNI_COMMAND: "VERSION" },
    })).ms;
    const t = (await del(thinBin, i, thinConf)).ms;
    const k = (await del(thickBin, i, thickConf)).ms;
    if (i === 0) continue; // warm-up
    xs.a.push(a);
    xs.f.push(f);
    xs.t.push(t);
    xs.k.push(k);
  }
  return {
    artifactVersion: stats(xs.a),
    forwarderVersion: stats(xs.f),
    thinEmptyDel: stats(xs.t),
    thickEmptyDel: stats(xs.k),
  };
}

/** Figure 10 as lines. */
export function describeFrontEnd(f: FrontEnd): string {
  const e = f.exec;
  const m = (s: Stats) => s.median.toFixed(1);
  return [
    `10. the cnishim plugin as the runtime's one CNI plugin, driven by Go libcni (real pod: bridge+host-local, portmap with one mapping, tuning; ${f.pods} pods, sides interleaved; ms, medians; x = median of per-pod ratios to the runtime's own conflist)`,
    `  peer: ${f.peer}`,
    ...Object.entries(f.sides).map(([name, s]) =>
      `  ${name.padEnd(54)} ADD ${m(s.add).padStart(6)}  DEL ${
        m(s.del).padStart(6)
      }  ADD+DEL ${m(s.both).padStart(6)}  x${s.overOwn.toFixed(2)}`
    ),
    `  one exec with nothing to run: artifact VERSION ${
      m(e.artifactVersion)
    }, forwarder VERSION (forwarder + exec) ${
      m(e.forwarderVersion)
    }, DEL of an unknown pod thin ${
      m(e.thinEmptyDel)
    }, thick (forwarder + serve) ${m(e.thickEmptyDel)}`,
    ...Object.entries(f.goals).map(([name, g]) =>
      `  goal ${name}: x${g.value} <= x${g.limit}: ${g.met ? "met" : "NOT met"}`
    ),
  ].join("\n");
}
