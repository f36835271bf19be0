/**
 * The teardown behind `remove`, a failed setup's undo and GC: from what
 * the cache recorded at setup rather than from the current config dir, so
 * that a changed or deleted conf file, a vanished netns, or a crashed setup
 * still gets every attachment its DEL. The caller holds the container lock.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  errorText,
  toCniError,
} from "../spec/errors.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import type { CacheEntry } from "../cache/cache_entry.ts";
import type { CacheKey, CacheScan } from "../cache/result_cache.ts";
import { delNetworkList } from "../engine/del_network_list.ts";
import type { Logger } from "../log/logger.ts";
import {
  type PodRecord,
  readPod,
  recordedKeys,
  removePodRecord,
} from "./pod_record.ts";
import { loopbackNetwork } from "./_loopback.ts";
import { confNetworks } from "./conf_networks.ts";
import {
  LOOPBACK_NETWORK,
  type ResolvedRuntimeOptions,
} from "./runtime_options.ts";

/** What a teardown did. */
export interface Teardown {
  /** Attachments that got their DEL, in teardown order. */
  removed: { network: string; interface: string }[];
  /** Loopback DEL failures and corrupt cache entries: never fatal. */
  warnings: string[];
  /** Every other failure; the pod record stays when there are any. */
  failures: CniError[];
  /**
   * A skipped attachment (see {@link TeardownScope}) still has its cache
   * entry: the pod record stays for the runtime's DEL.
   */
  leftForRetry: boolean;
}

/** How a failed setup narrows its own undo. */
export interface TeardownScope {
  /**
   * Attachments (`network\0ifName`) whose ADD failed: their own rollback
   * ran already, so they get no second DEL. One whose cache entry is still
   * there (its rollback failed and kept it for DEL) keeps the pod record.
   */
  skip?: ReadonlySet<string>;
  /**
   * Tear down only what has a cache entry: a setup knows that a recorded
   * attachment without one was never started (each network writes its
   * entry before its first plugin runs) or was rolled back.
   */
  cachedOnly?: boolean;
}

/** The key of an attachment in a {@link TeardownScope}. */
export function attachmentKey(network: string, ifName: string): string {
  return `${network}\0${ifName}`;
}

/**
 * The unlocked teardown shared by `remove`, a failed setup and GC: every
 * attachment cached for the container, all at once (in reverse setup order
 * when `serial`), continuing past failures. An attachment the pod record
 * lists whose cache entry is gone is torn down with today's config of its
 * network (as libcni's DEL does without a cached config), or reported as
 * not deletable when there is none, keeping the record for a retry.
 */
export async function teardown(
  containerId: string,
  netns: string,
  options: ResolvedRuntimeOptions,
  scope: TeardownScope = {},
): Promise<Teardown> {
  const { engine, logger: log } = options;
  let current: Promise<Map<string, NetworkConfigList>> | undefined;
  const today = () =>
    current ??= confNetworks(options).then(({ networks }) =>
      new Map(networks.map((n) => [n.name, n]))
    );
  const { record, scan } = await readPod(
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
  const { unreadable, legacy, ambiguous } = scan;
  const skip = scope.skip ?? new Set<string>();
  const skipped = (k: { networkName: string; ifName: string }) =>
    skip.has(attachmentKey(k.networkName, k.ifName));
  const report: Teardown = {
    removed: [],
    warnings: [],
    failures: [],
    // A skipped attachment whose entry is still there awaits a DEL.
    leftForRetry: [...scan.entries, ...unreadable, ...legacy].some(skipped),
  };
  const failures = report.failures;
  for (const name of ambiguous) {
    const warning =
      `Cache file "${name}" is left alone: its name reads as more than one attachment (or another container's), and it cannot say which`;
    report.warnings.push(warning);
    log.warn(warning, { containerId });
  }
  const entries = scan.entries.filter((e) => !skipped(e));
  if (record && !scope.cachedOnly) {
    entries.push(...uncachedAttachments(record, scan, log));
  }
  // Corrupt entries name their attachment only in the file name; with a
  // record, only the attachments it lists are believed.
  const recorded = (k: { networkName: string; ifName: string }) =>
    !record ||
    record.attachments.some((a) =>
      a.network === k.networkName && a.ifName === k.ifName
    );
  for (const key of unreadable) {
    if (!recorded(key) || skipped(key)) continue;
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
    if (!recorded(key) || skipped(key)) continue;
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
        const why = entry.config.length || !uncached.has(entry)
          ? "its cache entry holds no usable config"
          : "the pod record lists it but its cache entry is gone";
        throw new CniError(
          CNI_ERROR_CODES.invalidNetworkConfig,
          `Cannot tear down network "${entry.networkName}" (${entry.ifName}): ${why} and "${options.confDir}" has no valid network of that name (not deletable; the pod record is kept for a retry)`,
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
  if (failures.length === 0 && !report.leftForRetry) {
    // A record the cache refuses to reach (its directory a symlink, say)
    // was never read either: the pod is gone, and a DEL that failed on it
    // would be retried forever.
    await removePodRecord(engine.cacheDir, containerId).catch((error) => {
      const warning = `The pod record was not removed: ${errorText(error)}`;
      report.warnings.push(warning);
      log.warn(warning, { containerId });
    });
  }
  return report;
}

// The entries made for attachments the record lists without a cache file.
const uncached = new WeakSet<CacheEntry>();

// The record's attachments that have no cache file at all (neither an entry
// nor an unreadable or legacy file): the entry was removed behind cnishim's
// back, or a setup or teardown stopped between the entry and the record.
function uncachedAttachments(
  record: PodRecord,
  scan: CacheScan,
  log: Logger,
): CacheEntry[] {
  const have = new Set(
    [...scan.entries, ...scan.unreadable, ...scan.legacy].map((k) =>
      attachmentKey(k.networkName, k.ifName)
    ),
  );
  const out: CacheEntry[] = [];
  for (const key of recordedKeys(record.containerId, record.attachments)) {
    if (have.has(attachmentKey(key.networkName, key.ifName))) continue;
    log.info("tearing down a recorded attachment without a cache entry", {
      containerId: key.containerId,
      network: key.networkName,
      ifName: key.ifName,
    });
    const entry = recordedEntry(key, record);
    uncached.add(entry);
    out.push(entry);
  }
  return out;
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
