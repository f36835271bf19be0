/**
 * Figure 9, node density: what a pod pays for the other pods of its node.
 * The cache dir of a busy node holds an entry per attachment of every pod
 * (1,000 pods with loopback and one network: 2,000 files in `results/`).
 * One pod of the trivial chain, ADD then DEL, with such a cache and with
 * an empty one, interleaved: through the shipped CLI and through a warm
 * server on each cache.
 *
 * @module
 */
import { join } from "node:path";
import { round, type Stats, stats } from "./_harness.ts";
import type { BenchBed } from "./_fixtures.ts";

/** One way of running a pod: ADD, DEL and both, ms. */
export interface DensitySide {
  /** With the busy node's cache. */
  busy: { add: Stats; del: Stats };
  /** With an empty cache. */
  empty: { add: Stats; del: Stats };
  /** Median per-pod difference (busy - empty), ADD and DEL, ms. */
  costMs: { add: number; del: number };
}

/** Figure 9. */
export interface CacheScale {
  /** Other pods on the node. */
  pods: number;
  /** Files in the busy cache's `results/`. */
  entries: number;
  /** The shipped CLI. */
  cli: DensitySide;
  /** A warm server. */
  serve: DensitySide;
}

const PODS = 1000;
const ROUNDS = 20;

/** Measures figure 9 with the shipped artifact. */
export async function measureCacheScale(bed: BenchBed): Promise<CacheScale> {
  const busy = join(bed.tmp, "cache-busy");
  const results = join(busy, "results");
  await Deno.mkdir(results, { recursive: true, mode: 0o700 });
  // The entries as a node has them: libcni's names, cnishim's content.
  for (let i = 0; i < PODS; i++) {
    const id = i.toString(16).padStart(64, "0");
    for (const [network, ifName] of [["cni-loopback", "lo"], ["t", "eth0"]]) {
      await Deno.writeTextFile(
        join(results, `${network}-${id}-${ifName}`),
        JSON.stringify({
          kind: "cniCacheV1",
          containerId: id,
          config: btoa('{"cniVersion":"1.0.0","name":"t","plugins":[]}'),
          ifName,
          networkName: network,
          cniArgs: [],
          result: { cniVersion: "1.0.0" },
        }),
        { mode: 0o600 },
      );
    }
  }
  const flags = (cache: string) =>
    bed.shimFlags(bed.trivialBin, bed.trivialConf, cache);
  const emptyCache = join(bed.tmp, "cache-density-empty");
  const sockets = {
    busy: join(bed.tmp, "run", "busy.sock"),
    empty: join(bed.tmp, "run", "density-empty.sock"),
  };
  await bed.startServer(sockets.busy, flags(busy));
  await bed.startServer(sockets.empty, flags(emptyCache));

  const cliPod = async (cache: string, i: number) => ({
    add: await bed.time(bed.shipped, [
      "add",
      `d${i}`,
      "/proc/self/ns/net",
      ...flags(cache),
    ]),
    del: await bed.time(bed.shipped, ["del", `d${i}`, ...flags(cache)]),
  });
  const servePod = async (socket: string, i: number) => ({
    add: await bed.request(socket, "add", {
      args: [`s${i}`, "/proc/self/ns/net"],
      flags: {},
    }),
    del: await bed.request(socket, "del", { args: [`s${i}`], flags: {} }),
  });
  type Pod = { add: number; del: number };
  const runs: Record<string, (i: number) => Promise<Pod>> = {
    cliBusy: (i) => cliPod(busy, i),
    cliEmpty: (i) => cliPod(emptyCache, i),
    serveBusy: (i) => servePod(sockets.busy, i),
    serveEmpty: (i) => servePod(sockets.empty, i),
  };
  const names = Object.keys(runs);
  const samples: Record<string, Pod[]> = Object.fromEntries(
    names.map((n) => [n, []]),
  );
  for (const n of names) await runs[n]!(-1);
  for (let i = 0; i < ROUNDS; i++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      samples[n]!.push(await runs[n]!(i));
    }
  }
  const side = (b: Pod[], e: Pod[]): DensitySide => {
    const diff = (f: (p: Pod) => number) =>
      stats(b.map((p, i) => f(p) - f(e[i]!))).median;
    return {
      busy: {
        add: stats(b.map((p) => p.add)),
        del: stats(b.map((p) => p.del)),
      },
      empty: {
        add: stats(e.map((p) => p.add)),
        del: stats(e.map((p) => p.del)),
      },
      costMs: {
        add: round(diff((p) => p.add)),
        del: round(diff((p) => p.del)),
      },
    };
  };
  return {
    pods: PODS,
    entries: 2 * PODS,
    cli: side(samples.cliBusy!, samples.cliEmpty!),
    serve: side(samples.serveBusy!, samples.serveEmpty!),
  };
}

/** Figure 9 in one line. */
export function describeCacheScale(f: CacheScale): string {
  const one = (name: string, s: DensitySide) =>
    `${name} ADD ${s.busy.add.median} vs ${s.empty.add.median} ms (+${s.costMs.add}), DEL ${s.busy.del.median} vs ${s.empty.del.median} ms (+${s.costMs.del})`;
  return `9. node density, one pod (trivial chain) with the cache of ${f.pods} other pods (${f.entries} entries) vs an empty cache: ${
    one("CLI", f.cli)
  }; ${one("serve", f.serve)}`;
}
