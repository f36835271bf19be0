/**
 * The way out of a container that no DEL can ever tear down (its cached
 * args are too big to exec, its plugin is gone for good, …): drop what the
 * cache holds for it without running a plugin, and say what may be left on
 * the node. A runtime retrying such a DEL forever otherwise keeps the pod.
 *
 * @module
 */
import { validateContainerId } from "../spec/identifiers.ts";
import type { JsonObject } from "../spec/types.ts";
import { lockContainer } from "../cache/container_lock.ts";
import { cacheFilePath, deleteCacheEntry } from "../cache/result_cache.ts";
import { resultIps } from "../result/result_ips.ts";
import { settleDeadHolder } from "./_orphans.ts";
import { readPod, removePodRecord } from "./pod_record.ts";
import { isJsonObject } from "../spec/json.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** One attachment dropped from the cache without its DEL. */
export interface DroppedAttachment {
  /** The network name. */
  network: string;
  /** The interface in the pod. */
  interface: string;
  /** The netns path at setup, when the cache kept it. */
  netns?: string;
  /** The addresses of the cached result: IPAM may still hold them. */
  ips: string[];
  /**
   * The interfaces of the cached result (`name`, with `sandbox` for one in
   * the pod): a host-side one (a veth peer) may still exist.
   */
  interfaces: { name: string; sandbox?: string }[];
  /** The cache file removed. */
  cacheFile: string;
  /** False when the file held no readable result (nothing known of it). */
  resultKnown: boolean;
}

/** What {@link forceDrop} did. */
export interface ForceDropReport {
  /** The container. */
  containerId: string;
  /** Every attachment dropped; none when nothing was cached. */
  dropped: DroppedAttachment[];
  /** Whether a pod record was removed. */
  recordRemoved: boolean;
  /** What may be left on the node, one line per attachment. */
  mayLeak: string[];
}

/**
 * Drops a container's cache entries (readable, corrupt or pre-0.8 alike),
 * its pod record and its lock file, holding its lock, without running any
 * plugin: its networks are NOT torn down. Everything the DEL would have
 * removed may remain (interfaces, IPAM allocations, iptables rules), and is
 * named in the report from the cached results. With nothing cached it
 * reports nothing dropped.
 *
 * @throws {CniError} code 7 for a bad container ID, 5 when the cache cannot
 * be read or written
 *
 * @example Usage
 * ```ts
 * import { forceDrop } from "./force_drop.ts";
 * import { deepEqual } from "node:assert/strict";
 * const cacheDir = await Deno.makeTempDir();
 * const report = await forceDrop("c1", { cacheDir });
 * deepEqual(report.dropped, []);
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 */
export async function forceDrop(
  containerId: string,
  options: RuntimeOptions = {},
): Promise<ForceDropReport> {
  validateContainerId(containerId);
  const { engine, logger: log } = resolveRuntimeOptions(options);
  await using lock = await lockContainer(engine.cacheDir, containerId);
  await settleDeadHolder(lock, containerId, log);
  const { record, scan } = await readPod(engine.cacheDir, containerId);
  const dropped: DroppedAttachment[] = [];
  for (const entry of scan.entries) {
    const result = entry.result;
    dropped.push({
      network: entry.networkName,
      interface: entry.ifName,
      ...(entry.netns ? { netns: entry.netns } : {}),
      ips: result ? resultIps(result).map((ip) => ip.address) : [],
      interfaces: result ? resultInterfaces(result) : [],
      cacheFile: cacheFilePath(engine.cacheDir, entry),
      resultKnown: result !== undefined,
    });
  }
  for (const key of [...scan.unreadable, ...scan.legacy]) {
    dropped.push({
      network: key.networkName,
      interface: key.ifName,
      ...(record?.netns ? { netns: record.netns } : {}),
      ips: [],
      interfaces: [],
      cacheFile: cacheFilePath(engine.cacheDir, key),
      resultKnown: false,
    });
  }
  for (const d of dropped) {
    await deleteCacheEntry(engine.cacheDir, {
      networkName: d.network,
      containerId,
      ifName: d.interface,
    });
  }
  if (record) await removePodRecord(engine.cacheDir, containerId);
  lock.removeOnRelease();
  const mayLeak = dropped.map(leakLine);
  for (const line of mayLeak) {
    log.warn("dropped from the cache without DEL", { containerId, line });
  }
  return { containerId, dropped, recordRemoved: record !== undefined, mayLeak };
}

function resultInterfaces(result: JsonObject): DroppedAttachment["interfaces"] {
  const list = Array.isArray(result.interfaces) ? result.interfaces : [];
  return list.flatMap((i) => {
    if (!isJsonObject(i)) return [];
    const { name, sandbox } = i as JsonObject;
    if (typeof name !== "string") return [];
    return [{
      name,
      ...(typeof sandbox === "string" && sandbox ? { sandbox } : {}),
    }];
  });
}

function leakLine(d: DroppedAttachment): string {
  const where = `network "${d.network}" (${d.interface}${
    d.netns ? ` in ${d.netns}` : ""
  })`;
  if (!d.resultKnown) {
    return `${where}: its cache entry held no readable result, so what its plugins set up is unknown and may remain`;
  }
  const parts = [
    d.interfaces.length
      ? `interfaces ${
        d.interfaces.map((i) => i.sandbox ? `${i.name} (pod)` : i.name).join(
          ", ",
        )
      }`
      : undefined,
    d.ips.length ? `IPs ${d.ips.join(", ")} (IPAM allocations)` : undefined,
  ].filter(Boolean);
  return `${where}: never got its DEL; ${
    parts.length ? `${parts.join("; ")} and ` : ""
  }whatever else its plugins set up (iptables rules, routes, …) may remain`;
}
