/**
 * DEL of one network list: idempotent, tolerant of a corrupt cache, and
 * every plugin gets its DEL even when another one fails.
 *
 * @module
 */
import { AggregateCniError, type CniError } from "../spec/errors.ts";
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
import { getCachedResult } from "./get_cached_result.ts";
import { validateAttachment } from "./_validate_attachment.ts";
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
 * The entry is removed only when every plugin succeeded.
 *
 * @throws {AggregateCniError} listing every plugin that failed
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
  const report: DelReport = {};
  let prevResult: CniResult | undefined;
  if (supportsPrevResultOnDel(list.cniVersion)) {
    try {
      prevResult = await getCachedResult(list, rt, resolved);
    } catch {
      report.quarantined = await quarantineCacheEntry(resolved.cacheDir, key);
    }
  }
  const failures = await delPlugins(
    list,
    rt,
    prevResult,
    list.plugins.length - 1,
    resolved,
  );
  if (failures.length === 0) {
    await deleteCacheEntry(resolved.cacheDir, key);
    return report;
  }
  throw teardownError(list, failures);
}

function teardownError(
  list: NetworkConfigList,
  failures: CniError[],
): CniError {
  return new AggregateCniError(
    `DEL of network "${list.name}" failed for ${failures.length} of ${list.plugins.length} plugins (the cache entry is kept for a retry)`,
    failures,
  );
}
