/**
 * Reading what ADD left in the cache (libcni's
 * `GetNetworkListCachedResult`, `GetNetworkListCachedConfig`,
 * `GetCachedAttachments`).
 *
 * @module
 */
import type {
  CniArg,
  CniResult,
  JsonObject,
  NetworkConfigList,
  RuntimeConf,
} from "../spec/types.ts";
import { listCacheEntries, readCacheEntry } from "../cache/result_cache.ts";
import type { CacheEntry } from "../cache/cache_entry.ts";
import { convertResult } from "../result/convert_result.ts";
import { parseResult } from "../result/parse_result.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";
import { validateAttachment } from "./validate_attachment.ts";
import { validateContainerId } from "../spec/identifiers.ts";

/**
 * The cached ADD result of an attachment converted to the list's version;
 * `undefined` when nothing (or an ADD still in progress) is cached.
 *
 * @example The result an attachment was added with
 * ```ts ignore
 * import { getCachedResult, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * console.log(await getCachedResult(list, rt, { cacheDir: "/var/lib/cni" }));
 * ```
 * @throws {CniError} when the entry is corrupt or cannot be converted
 */
export async function getCachedResult(
  list: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CniResult | undefined> {
  validateAttachment(list.name, rt);
  const { cacheDir } = resolveEngineOptions(options);
  const decoded = await readCacheEntry(cacheDir, {
    networkName: list.name,
    containerId: rt.containerId,
    ifName: rt.ifName,
  });
  if (!decoded) return undefined;
  const raw = decoded.kind === "entry" ? decoded.entry.result : decoded.result;
  if (!raw) return undefined;
  return convertResult(parseResult(raw, list.cniVersion), list.cniVersion);
}

/** What ADD ran: the config bytes and the runtime arguments it had. */
export interface CachedConfig {
  /** The network config list bytes of the ADD. */
  config: Uint8Array;
  /** The runtime arguments of the ADD (`args` and `capabilityArgs` from the cache). */
  rt: RuntimeConf;
  /** The netns path at ADD ("" when not recorded). */
  netns: string;
}

/**
 * The config and runtime arguments an attachment was added with, so that a
 * front end can tear it down after the conf file changed or vanished
 * (libcni's `GetNetworkListCachedConfig`, which also reads only the list's
 * name: `{ name }` stands for a list whose file is gone). `undefined` when
 * nothing is cached.
 *
 * @example Tear an attachment down after its conf file went
 * ```ts ignore
 * import { delNetworkList, getCachedConfig, parseNetworkConfigList } from "./mod.ts";
 *
 * const rt = { containerId: "abc", netns: "", ifName: "eth0" };
 * const cached = await getCachedConfig({ name: "mynet" }, rt);
 * if (cached) {
 *   const list = await parseNetworkConfigList(cached.config);
 *   await delNetworkList(list, cached.rt, { binDirs: ["/usr/lib/cni"] });
 * }
 * ```
 * @throws {CniError} when the entry is corrupt or of the legacy kind
 */
export async function getCachedConfig(
  list: Pick<NetworkConfigList, "name">,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CachedConfig | undefined> {
  const networkName = list.name;
  validateAttachment(networkName, rt);
  const { cacheDir } = resolveEngineOptions(options);
  const decoded = await readCacheEntry(cacheDir, {
    networkName,
    containerId: rt.containerId,
    ifName: rt.ifName,
  });
  if (!decoded) return undefined;
  if (decoded.kind !== "entry") return undefined;
  return cachedConfigOf(decoded.entry, rt);
}

function cachedConfigOf(entry: CacheEntry, rt: RuntimeConf): CachedConfig {
  const args: readonly CniArg[] = entry.cniArgs.length
    ? entry.cniArgs
    : rt.args ?? [];
  const capabilityArgs: JsonObject = entry.capabilityArgs;
  return {
    config: entry.config,
    rt: { ...rt, args, capabilityArgs },
    netns: entry.netns,
  };
}

/**
 * Every attachment in the cache, optionally of one container.
 *
 * @example What one container has attached
 * ```ts ignore
 * import { getCachedAttachments } from "./mod.ts";
 *
 * for (const entry of await getCachedAttachments("abc")) {
 *   console.log(entry.networkName, entry.ifName);
 * }
 * ```
 */
export async function getCachedAttachments(
  containerId?: string,
  options?: EngineOptions,
): Promise<CacheEntry[]> {
  if (containerId) validateContainerId(containerId);
  const { cacheDir } = resolveEngineOptions(options);
  return await listCacheEntries(cacheDir, containerId);
}
