/**
 * The leak check: what pods left behind on the host and in the dirs a
 * test gave them (veths, host-local allocations, cache entries, iptables
 * lines, pod records, locks).
 *
 * @module
 */
import { listFiles } from "./shell.ts";
import { bridgePorts } from "./netns.ts";
import { cniChainName, iptablesLines } from "./iptables.ts";

/** Where to look for leftovers of some pods. */
export interface LeakContext {
  /** Bridges whose enslaved veths count as leftovers. */
  bridges?: readonly string[];
  /** host-local's dataDir. */
  dataDir?: string;
  /** The shim's cache dir. */
  cacheDir?: string;
  /** Container IDs whose iptables rules count as leftovers. */
  containerIds?: readonly string[];
  /** Network names, to compute the per-container chain names. */
  networks?: readonly string[];
}

/** What a pod left behind; every list empty when nothing leaked. */
export interface Leaks {
  /** `<bridge>: <veth>` for each interface enslaved to a bridge. */
  veths: string[];
  /** host-local allocations (files other than `lock`, `last_reserved_ip.*`). */
  ipam: string[];
  /** Files under `<cacheDir>/results`. */
  cache: string[];
  /** nat/filter lines naming a container's chains or mentioning its ID. */
  iptables: string[];
  /** Files under `<cacheDir>/cnishim/pods`. */
  podRecords: string[];
  /** The containers' lock files (`<cacheDir>/locks/containers/<id>.lock`). */
  locks: string[];
}

/**
 * host-local's allocations below `dir` (its dataDir, or one network's dir
 * in it): its lock and last-reserved files do not count.
 */
export async function ipamAllocations(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => {
    const base = f.slice(f.lastIndexOf("/") + 1);
    return base !== "lock" && !base.startsWith("last_reserved_ip.");
  });
}

/**
 * Lists what is left of some pods: veths on the bridges, host-local
 * allocations, cached results, iptables lines (the per-container `CNI-DN-`
 * and `CNI-` chains, and rules mentioning a container ID; the shared
 * `CNI-HOSTPORT-*` chains stay by design) and pod records.
 */
export async function leakCheck(ctx: LeakContext): Promise<Leaks> {
  const leaks: Leaks = {
    veths: [],
    ipam: [],
    cache: [],
    iptables: [],
    podRecords: [],
    locks: [],
  };
  for (const bridge of ctx.bridges ?? []) {
    for (const port of await bridgePorts(bridge)) {
      leaks.veths.push(`${bridge}: ${port}`);
    }
  }
  if (ctx.dataDir) {
    leaks.ipam = await ipamAllocations(ctx.dataDir);
  }
  if (ctx.cacheDir) {
    leaks.cache = await listFiles(`${ctx.cacheDir}/results`);
    leaks.podRecords = await listFiles(`${ctx.cacheDir}/cnishim/pods`);
    leaks.locks = (await listFiles(`${ctx.cacheDir}/locks/containers`)).filter((
      f,
    ) => (ctx.containerIds ?? []).some((id) => f === `${id}.lock`));
  }
  const ids = ctx.containerIds ?? [];
  if (ids.length) {
    const chains = new Set<string>();
    for (const net of ctx.networks ?? []) {
      for (const id of ids) {
        chains.add(await cniChainName(net, id, "DN-"));
        chains.add(await cniChainName(net, id));
      }
    }
    for (const table of ["nat", "filter"]) {
      for (const line of await iptablesLines(table)) {
        const words = line.split(" ");
        if (
          ids.some((id) => line.includes(id)) ||
          words.some((w) => chains.has(w))
        ) {
          leaks.iptables.push(`${table}: ${line}`);
        }
      }
    }
  }
  return leaks;
}

/** Throws, listing every leftover, unless `leaks` is all empty. */
export function assertNoLeaks<T extends { [K in keyof T]: string[] }>(
  leaks: T,
): void {
  const left = (Object.entries(leaks) as [string, string[]][]).filter(([, v]) =>
    v.length
  );
  if (left.length) {
    throw new Error(
      `Left behind:\n${
        left.map(([k, v]) => `  ${k}:\n${v.map((x) => `    ${x}`).join("\n")}`)
          .join("\n")
      }`,
    );
  }
}
