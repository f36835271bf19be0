/**
 * ADD of one network list, with the rollback the spec asks for and libcni
 * leaves to the caller.
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  errorText,
  PluginError,
  toCniError,
} from "../spec/errors.ts";
import type {
  CniResult,
  NetworkConfigList,
  RuntimeConf,
} from "../spec/types.ts";
import type { CacheEntry } from "../cache/cache_entry.ts";
import { deleteCacheEntry, writeCacheEntry } from "../cache/result_cache.ts";
import { parseResult } from "../result/parse_result.ts";
import { convertResult } from "../result/convert_result.ts";
import { buildPluginConfig } from "./build_plugin_config.ts";
import { runPlugin } from "./_run_plugin.ts";
import { delPlugins } from "./_del_plugins.ts";
import { validateAttachment } from "./validate_attachment.ts";
import {
  type EngineOptions,
  type ResolvedEngineOptions,
  resolveEngineOptions,
} from "./engine_options.ts";
import { parseJson } from "../spec/json.ts";

const DECODER = new TextDecoder();

/**
 * Runs ADD for every plugin of `list` in order, each getting the previous
 * plugin's result as `prevResult`, and caches the final result.
 *
 * Before the first plugin runs, a cache entry without `result` records
 * what is about to be done, so a DEL after a crash can replay it. When a
 * plugin fails, every plugin of the list gets DEL in reverse, those never
 * called included (the spec's cleanup after a failed ADD: a plugin that
 * failed midway may have left state, and DEL of nothing is a no-op), and
 * the entry is removed; the original error is thrown. A rollback DEL that
 * fails stops there as any DEL does: the entry is kept for the runtime's
 * DEL, and the error lists both failures.
 *
 * @example Read the addresses of a list's ADD
 * ```ts ignore
 * import { addNetworkList, convertResult, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * const result = await addNetworkList(list, rt, { binDirs: ["/usr/lib/cni"] });
 * console.log(convertResult(result, "1.1.0").ips?.map((ip) => ip.address));
 * ```
 * @returns the last plugin's result, in the version it returned (libcni
 * does not convert either); {@link convertResult} to "1.1.0" types it as a
 * `Result100`
 * @throws {CniError} with the failing plugin's code
 */
export async function addNetworkList(
  list: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CniResult> {
  validateAttachment(list.name, rt);
  const resolved = resolveEngineOptions(options);
  // A missing binary is found before anything changes on the host.
  for (const plugin of list.plugins) {
    await resolved.findPlugin(plugin.type);
  }
  const entry: CacheEntry = {
    containerId: rt.containerId,
    config: list.bytes,
    ifName: rt.ifName,
    networkName: list.name,
    netns: rt.netns,
    cniArgs: (rt.args ?? []).map(([k, v]) => [k, v] as const),
    capabilityArgs: { ...(rt.capabilityArgs ?? {}) },
  };
  await writeCacheEntry(resolved.cacheDir, entry);

  let prevResult: CniResult | undefined;
  let last: CniResult | undefined;
  for (const index of list.plugins.keys()) {
    try {
      last = await addOne(list, index, rt, prevResult, resolved);
    } catch (error) {
      throw await rollBack(list, rt, prevResult, error, resolved);
    }
    prevResult = asListVersion(last, list.cniVersion);
  }
  const result: CniResult = last ?? { cniVersion: list.cniVersion };
  try {
    await writeCacheEntry(resolved.cacheDir, { ...entry, result });
  } catch (error) {
    throw await rollBack(
      list,
      rt,
      result,
      new CniError(
        CNI_ERROR_CODES.ioFailure,
        `Cannot cache the result of network "${list.name}": ${
          errorText(error)
        }`,
        { cause: error },
      ),
      resolved,
    );
  }
  return result;
}

// libcni hands a result on as returned, and the next plugin fails to parse a
// prevResult of another family; converting keeps such chains working.
function asListVersion(result: CniResult, version: string): CniResult {
  if (result.cniVersion === version) return result;
  try {
    return convertResult(result, version);
  } catch {
    return result;
  }
}

async function addOne(
  list: NetworkConfigList,
  index: number,
  rt: RuntimeConf,
  prevResult: CniResult | undefined,
  options: ResolvedEngineOptions,
): Promise<CniResult> {
  const plugin = list.plugins[index]!;
  const stdin = buildPluginConfig(list, plugin, {
    prevResult,
    capabilityArgs: rt.capabilityArgs,
  });
  const stdout = await runPlugin(plugin, "ADD", stdin, rt, options);
  const decoded = parseJson(DECODER.decode(stdout), (why) =>
    new PluginError(
      CNI_ERROR_CODES.decodingFailure,
      `Plugin "${plugin.type}" failed (ADD): cannot parse its result: ${why}`,
      { pluginType: plugin.type, command: "ADD" },
    ));
  try {
    return parseResult(decoded, list.cniVersion);
  } catch (error) {
    const e = toCniError(error);
    throw new PluginError(
      e.code,
      `Plugin "${plugin.type}" failed (ADD): ${e.message}`,
      { pluginType: plugin.type, command: "ADD", cause: e },
    );
  }
}

async function rollBack(
  list: NetworkConfigList,
  rt: RuntimeConf,
  prevResult: CniResult | undefined,
  error: unknown,
  options: ResolvedEngineOptions,
): Promise<CniError> {
  const original = toCniError(error);
  const failures: CniError[] = [];
  const stopped = await delPlugins(list, rt, prevResult, options);
  if (stopped) failures.push(stopped);
  const key = {
    networkName: list.name,
    containerId: rt.containerId,
    ifName: rt.ifName,
  };
  if (failures.length === 0) {
    try {
      await deleteCacheEntry(options.cacheDir, key);
    } catch (removeError) {
      failures.push(toCniError(removeError));
    }
  }
  if (failures.length === 0) return original;
  return new AggregateCniError(
    `ADD of network "${list.name}" failed and its rollback failed too (the cache entry is kept for DEL)`,
    [original, ...failures],
  );
}
