/**
 * DEL of one network list: idempotent, tolerant of a corrupt cache, and
 * stopping at the first plugin that fails, as the spec requires.
 *
 * @module
 */
import type {
  CniResult,
  NetworkConfigList,
  RuntimeConf,
} from "../spec/types.ts";
import { supportsPrevResultOnDel } from "../spec/version.ts";
import {
  type CacheKey,
  deleteCacheEntry,
  quarantineCacheEntry,
} from "../cache/result_cache.ts";
import { delPlugins } from "./_del_plugins.ts";
import { prefetchPlugins } from "./_run_plugin.ts";
import { getCachedResult } from "./get_cached_result.ts";
import { validateAttachment } from "./validate_attachment.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";

/** What a DEL did besides calling the plugins. */
export interface DelReport {
  /** Where a corrupt cache entry was moved, if there was one. */
  quarantined?: string;
}

/**
 * Runs DEL for every plugin of `list` in reverse order, with the cached
 * result as `prevResult` (0.4.0 and later). A corrupt entry is quarantined
 * and DEL goes on without it; with nothing cached the plugins still run.
 * The first plugin that fails stops the DEL, and the entry is kept: a retry
 * runs the whole list again from its last plugin (a DEL of what is already
 * gone succeeds, so the plugins that got theirs are harmless to call again).
 * The entry is removed only when every plugin succeeded.
 *
 * @example DEL an attachment
 * ```ts ignore
 * import { delNetworkList, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * const report = await delNetworkList(list, rt, { binDirs: ["/usr/lib/cni"] });
 * console.log(report);
 * ```
 * @throws {DelStoppedError} naming the failing plugin and those not called
 */
export async function delNetworkList(
  list: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<DelReport> {
  validateAttachment(list.name, rt);
  const resolved = resolveEngineOptions(options);
  const key: CacheKey = {
    networkName: list.name,
    containerId: rt.containerId,
    ifName: rt.ifName,
  };
  // The plugins are looked up while the cached result is read.
  prefetchPlugins(list, resolved);
  const report: DelReport = {};
  let prevResult: CniResult | undefined;
  if (supportsPrevResultOnDel(list.cniVersion)) {
    try {
      prevResult = await getCachedResult(list, rt, resolved);
    } catch {
      report.quarantined = await quarantineCacheEntry(resolved.cacheDir, key);
    }
  }
  const stopped = await delPlugins(list, rt, prevResult, resolved);
  if (stopped) throw stopped;
  await deleteCacheEntry(resolved.cacheDir, key);
  return report;
}
