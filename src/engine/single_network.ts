/**
 * libcni's single-network verbs (`AddNetwork`, `CheckNetwork`,
 * `DelNetwork`, `ValidateNetwork`, `GetNetworkCachedResult`,
 * `GetNetworkCachedConfig`): the list verbs over a config of one plugin, a
 * `.conf` file as {@link parseNetworkConfigList} lifts it. The cache entry
 * is the list's, so the list verbs and the pod runtime read it too.
 *
 * @module
 */
import { CNI_ERROR_CODES, ConfigError } from "../spec/errors.ts";
import type {
  CniResult,
  NetworkConfigList,
  RuntimeConf,
} from "../spec/types.ts";
import type { EngineOptions } from "./engine_options.ts";
import { addNetworkList } from "./add_network_list.ts";
import { checkNetworkList } from "./check_network_list.ts";
import { delNetworkList, type DelReport } from "./del_network_list.ts";
import { validateNetworkList } from "./validate_network_list.ts";
import {
  type CachedConfig,
  getCachedConfig,
  getCachedResult,
} from "./get_cached_result.ts";

// The single verbs name one plugin; a list given by mistake would run
// without its rollback order being what the caller meant.
function onePlugin(
  net: NetworkConfigList,
  verb: string,
  listVerb: string,
): NetworkConfigList {
  if (net.plugins.length !== 1) {
    throw new ConfigError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Cannot use network "${net.name}" with ${verb}: it has ${net.plugins.length} plugins, and ${verb} takes a config of one (use ${listVerb})`,
      { field: "plugins", ...(net.source ? { file: net.source } : {}) },
    );
  }
  return net;
}

/**
 * ADD of a one-plugin network (libcni's `AddNetwork`); the result is
 * cached as for a list.
 *
 * @example Usage
 * ```ts ignore
 * import { addNetwork, delNetwork, loadNetworkConfigList } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * const result = await addNetwork(net, rt, { binDirs: ["/usr/lib/cni"] });
 * await delNetwork(net, rt, { binDirs: ["/usr/lib/cni"] });
 * ```
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link addNetworkList}
 */
export async function addNetwork(
  net: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CniResult> {
  return await addNetworkList(
    onePlugin(net, "addNetwork", "addNetworkList"),
    rt,
    options,
  );
}

/**
 * CHECK of a one-plugin network (libcni's `CheckNetwork`).
 *
 * @example Usage
 * ```ts ignore
 * import { checkNetwork, loadNetworkConfigList } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * await checkNetwork(net, { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" });
 * ```
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link checkNetworkList}
 */
export async function checkNetwork(
  net: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<void> {
  await checkNetworkList(
    onePlugin(net, "checkNetwork", "checkNetworkList"),
    rt,
    options,
  );
}

/**
 * DEL of a one-plugin network (libcni's `DelNetwork`).
 *
 * @example Usage
 * ```ts ignore
 * import { delNetwork, loadNetworkConfigList } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * await delNetwork(net, { containerId: "abc", netns: "", ifName: "eth0" });
 * ```
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link delNetworkList}
 */
export async function delNetwork(
  net: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<DelReport> {
  return await delNetworkList(
    onePlugin(net, "delNetwork", "delNetworkList"),
    rt,
    options,
  );
}

/**
 * Checks that the plugin of a one-plugin network is installed and speaks
 * its version (libcni's `ValidateNetwork`).
 *
 * @example Usage
 * ```ts ignore
 * import { loadNetworkConfigList, validateNetwork } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * const capabilities = await validateNetwork(net, { binDirs: ["/usr/lib/cni"] });
 * ```
 * @returns the capabilities the plugin declares `true`
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link validateNetworkList}
 */
export async function validateNetwork(
  net: NetworkConfigList,
  options?: EngineOptions,
): Promise<string[]> {
  return await validateNetworkList(
    onePlugin(net, "validateNetwork", "validateNetworkList"),
    options,
  );
}

/**
 * The cached ADD result of a one-plugin network (libcni's
 * `GetNetworkCachedResult`); `undefined` when nothing is cached.
 *
 * @example Usage
 * ```ts ignore
 * import { getNetworkCachedResult, loadNetworkConfigList } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * const rt = { containerId: "abc", netns: "", ifName: "eth0" };
 * console.log(await getNetworkCachedResult(net, rt));
 * ```
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link getCachedResult}
 */
export async function getNetworkCachedResult(
  net: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CniResult | undefined> {
  return await getCachedResult(
    onePlugin(net, "getNetworkCachedResult", "getCachedResult"),
    rt,
    options,
  );
}

/**
 * The config and runtime arguments a one-plugin network was added with
 * (libcni's `GetNetworkCachedConfig`); `undefined` when nothing is cached.
 *
 * @example Usage
 * ```ts ignore
 * import { getNetworkCachedConfig, loadNetworkConfigList } from "./mod.ts";
 *
 * const net = await loadNetworkConfigList("/etc/cni/net.d/10-bridge.conf");
 * const cached = await getNetworkCachedConfig(net, { containerId: "abc", netns: "", ifName: "eth0" });
 * console.log(cached?.rt.capabilityArgs);
 * ```
 * @throws {ConfigError} code 7 when `net` has more than one plugin; else as
 * {@link getCachedConfig}
 */
export async function getNetworkCachedConfig(
  net: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<CachedConfig | undefined> {
  return await getCachedConfig(
    onePlugin(net, "getNetworkCachedConfig", "getCachedConfig"),
    rt,
    options,
  );
}
