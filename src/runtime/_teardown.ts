/**
 * The teardown behind `remove`, a failed setup's undo and GC: from what
 * the cache recorded at setup rather than from the current config dir, so
 * that a changed or deleted conf file, a vanished netns, or a crashed setup
 * still gets every attachment its DEL. The caller holds the container lock.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, toCniError } from "../spec/errors.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { DEFAULT_CONF_DIR } from "../spec/defaults.ts";
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import type { CacheEntry } from "../cache/cache_entry.ts";
import type { CacheKey } from "../cache/result_cache.ts";
import type { ResolvedEngineOptions } from "../engine/engine_options.ts";
import { delNetworkList } from "../engine/del_network_list.ts";
import { SILENT_LOGGER } from "../log/logger.ts";
import { type PodRecord, readPod, removePodRecord } from "./pod_record.ts";
import { loopbackNetwork } from "./_loopback.ts";
import { confNetworks } from "./conf_networks.ts";
import { LOOPBACK_NETWORK, type RuntimeOptions } from "./runtime_options.ts";

/** What a teardown did. */
export interface Teardown {
  /** Attachments that got their DEL, in teardown order. */
  removed: { network: string; interface: string }[];
  /** Loopback DEL failures and corrupt cache entries: never fatal. */
  warnings: string[];
  /** Every other failure; the pod record stays when there are any. */
  failures: CniError[];
}

/**
 * The unlocked teardown shared by `remove`, a failed setup and GC: every
 * attachment cached for the container, all at once (in reverse setup order
 * when `serial`), continuing past failures.
 */
export async function teardown(
  containerId: string,
  netns: string,
  options: RuntimeOptions,
  engine: ResolvedEngineOptions,
): Promise<Teardown> {
  const report: Teardown = { removed: [], warnings: [], failures: [] };
  const failures = report.failures;
  const log = options.logger ?? SILENT_LOGGER;
  let current: Promise<Map<string, NetworkConfigList>> | undefined;
  const today = () =>
    current ??= confNetworks(options).then(({ networks }) =>
      new Map(networks.map((n) => [n.name, n]))
    );
  const { record, scan: { entries, unreadable, legacy, ambiguous } } =
    await readPod(
      engine.cacheDir,
      containerId,
      // Without a record, file names read with today's networks only; a
      // conf dir that cannot be loaded leaves every valid name.
      () =>
        today().then(
          (m) => new Set([...m.keys(), LOOPBACK_NETWORK]),
          () => undefined,
        ),
    );
  for (const name of ambiguous) {
    const warning =
      `Cache file "${name}" is left alone: its name reads as more than one attachment (or another container's), and it cannot say which`;
    report.warnings.push(warning);
    log.warn(warning, { containerId });
  }
  // Corrupt entries name their attachment only in the file name; with a
  // record, only the attachments it lists are believed.
  const recorded = (k: { networkName: string; ifName: string }) =>
    !record ||
    record.attachments.some((a) =>
      a.network === k.networkName && a.ifName === k.ifName
    );
  for (const key of unreadable) {
    if (!recorded(key)) continue;
    if (!record) {
      const warning =
        `Network "${key.networkName}" (${key.ifName}) is torn down without its runtime args: its cache entry and the pod record are both unreadable, so what plugins remove only when told again (portmap's rules, for one) may remain`;
      report.warnings.push(warning);
      log.warn(warning, { containerId });
    }
    entries.push(recordedEntry(key, record));
  }
  // libcni before 0.8 cached the bare result: DEL runs today's config of
  // the network with that result as prevResult, as libcni does.
  for (const key of legacy) {
    if (!recorded(key)) continue;
    log.info("tearing down a pre-0.8 libcni cache entry", {
      containerId,
      network: key.networkName,
    });
    entries.push(recordedEntry(key, record));
  }
  const ordered = teardownOrder(entries, record?.attachments ?? []);
  const tearOne = async (entry: CacheEntry): Promise<Torn> => {
    const isLoopback = entry.networkName === LOOPBACK_NETWORK;
    const warnings: string[] = [];
    try {
      const list = await cachedList(entry).catch(async () => {
        // The cached config is unreadable: fall back to today's of that name.
        if (isLoopback) return await loopbackNetwork(engine);
        return (await today()).get(entry.networkName);
      });
      if (!list) {
        throw new CniError(
          CNI_ERROR_CODES.invalidNetworkConfig,
          `Cannot tear down network "${entry.networkName}" (${entry.ifName}): its cache entry holds no usable config and "${
            options.confDir ?? DEFAULT_CONF_DIR
          }" has no valid network of that name`,
        );
      }
      const del = await delNetworkList(list, {
        containerId,
        netns: await usableNetns(netns, entry.netns),
        ifName: entry.ifName,
        args: entry.cniArgs,
        capabilityArgs: entry.capabilityArgs,
      }, engine);
      if (del.quarantined) {
        const warning =
          `The cache entry of network "${entry.networkName}" (${entry.ifName}) was corrupt: torn down without it, and kept in quarantine as ${del.quarantined}`;
        warnings.push(warning);
        log.warn(warning, { containerId });
      }
      return { removed: true, warnings };
    } catch (error) {
      const e = toCniError(error);
      if (isLoopback) {
        log.warn("loopback teardown failed", { containerId, error: e.message });
        return { removed: false, warnings: [e.message] };
      }
      // Returned with the others: reported once, by the caller.
      log.info("network teardown failed", {
        containerId,
        network: entry.networkName,
        error: e.message,
      });
      return { removed: false, warnings, failure: e };
    }
  };
  // As setup attaches: the networks at once unless serial (the networks of
  // a pod are independent; one DEL failing does not stop the others
  // either way), in reverse setup order when serial.
  const torn: Torn[] = [];
  if (options.serial) {
    for (const entry of ordered) torn.push(await tearOne(entry));
  } else {
    torn.push(...await Promise.all(ordered.map(tearOne)));
  }
  torn.forEach((t, i) => {
    report.warnings.push(...t.warnings);
    if (t.failure) failures.push(t.failure);
    if (t.removed) {
      report.removed.push({
        network: ordered[i]!.networkName,
        interface: ordered[i]!.ifName,
      });
    }
  });
  if (failures.length === 0) {
    // A record the cache refuses to reach (its directory a symlink, say)
    // was never read either: the pod is gone, and a DEL that failed on it
    // would be retried forever.
    await removePodRecord(engine.cacheDir, containerId).catch((error) => {
      const warning = `The pod record was not removed: ${
        (error as Error).message
      }`;
      report.warnings.push(warning);
      log.warn(warning, { containerId });
    });
  }
  return report;
}

// What tearing one attachment down came to.
interface Torn {
  removed: boolean;
  warnings: string[];
  failure?: CniError;
}

// An attachment known only by its file name: no usable config (today's of
// the network is used), and the runtime args of the pod record, if any.
function recordedEntry(
  key: CacheKey,
  record: PodRecord | undefined,
): CacheEntry {
  return {
    ...key,
    config: new Uint8Array(),
    netns: record?.netns ?? "",
    cniArgs: record?.args ?? [],
    capabilityArgs: record?.capabilityArgs ?? {},
  };
}

// Reverse of the recorded setup order; entries the record does not know
// (a setup by another front end) come first, loopback always last.
function teardownOrder(
  entries: CacheEntry[],
  recorded: { network: string; ifName: string }[],
): CacheEntry[] {
  const rank = new Map(
    recorded.map((a, i) => [`${a.network}\0${a.ifName}`, i]),
  );
  const score = (e: CacheEntry) =>
    e.networkName === LOOPBACK_NETWORK
      ? -2
      : rank.get(`${e.networkName}\0${e.ifName}`) ?? Number.MAX_SAFE_INTEGER;
  return [...entries].sort((a, b) => score(b) - score(a));
}

async function cachedList(entry: CacheEntry): Promise<NetworkConfigList> {
  return await parseNetworkConfigList(entry.config, {
    format: "conflist",
    source: `cache entry of network "${entry.networkName}"`,
  });
}

// A netns path that no longer exists is passed as "" (the spec's way of
// saying it is gone), so plugins clean up host-side state only. A cached
// /proc/<pid>/ns/net is never reused: the pid may belong to another
// process by now, and DEL would then act on a stranger's namespace.
async function usableNetns(given: string, cached: string): Promise<string> {
  const path = given || (cached.startsWith("/proc/") ? "" : cached);
  if (!path) return "";
  try {
    await Deno.stat(path);
    return path;
  } catch {
    return "";
  }
}
