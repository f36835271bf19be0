/**
 * STATUS of one network list (spec 1.1.0).
 *
 * @module
 */
import type { NetworkConfigList } from "../spec/types.ts";
import { supportsGcAndStatus } from "../spec/version.ts";
import { buildStatusConfig } from "./build_plugin_config.ts";
import { runPlugin } from "./_run_plugin.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";

/**
 * Asks every plugin whether it can serve ADD. Lists below 1.1.0 are ready
 * without running anything.
 *
 * @example Ask a network whether it can take pods
 * ```ts ignore
 * import { getStatusNetworkList, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * await getStatusNetworkList(list, { binDirs: ["/usr/lib/cni"] });
 * ```
 * @throws {CniError} the first failing plugin's error, code kept (50, 51)
 */
export async function getStatusNetworkList(
  list: NetworkConfigList,
  options?: EngineOptions,
): Promise<void> {
  if (!supportsGcAndStatus(list.cniVersion)) return;
  const resolved = resolveEngineOptions(options);
  for (const plugin of list.plugins) {
    await runPlugin(
      plugin,
      "STATUS",
      buildStatusConfig(list, plugin),
      undefined,
      resolved,
    );
  }
}
