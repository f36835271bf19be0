/**
 * CHECK of one network list (spec 0.4.0 and later).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { NetworkConfigList, RuntimeConf } from "../spec/types.ts";
import { parseVersion, supportsCheck } from "../spec/version.ts";
import { buildPluginConfig } from "./build_plugin_config.ts";
import { runPlugin } from "./_run_plugin.ts";
import { getCachedResult } from "./get_cached_result.ts";
import { validateAttachment } from "./validate_attachment.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";

/**
 * Runs CHECK for every plugin in order with the cached result (converted
 * to the list's version) as `prevResult`. Refused below 0.4.0 — before
 * `disableCheck` is looked at, as libcni — and skipped with `disableCheck`.
 *
 * @example CHECK an attachment
 * ```ts ignore
 * import { checkNetworkList, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * await checkNetworkList(list, rt, { binDirs: ["/usr/lib/cni"] });
 * ```
 * @throws {CniError} code 1 below 0.4.0; the first failing plugin's error
 */
export async function checkNetworkList(
  list: NetworkConfigList,
  rt: RuntimeConf,
  options?: EngineOptions,
): Promise<void> {
  parseVersion(list.cniVersion);
  if (!supportsCheck(list.cniVersion)) {
    throw new CniError(
      CNI_ERROR_CODES.incompatibleCniVersion,
      `Cannot CHECK network "${list.name}": configuration version "${list.cniVersion}" does not support the CHECK command (0.4.0 or later needed)`,
    );
  }
  if (list.disableCheck) return;
  validateAttachment(list.name, rt);
  const resolved = resolveEngineOptions(options);
  const prevResult = await getCachedResult(list, rt, resolved);
  for (const plugin of list.plugins) {
    const stdin = buildPluginConfig(list, plugin, {
      prevResult,
      capabilityArgs: rt.capabilityArgs,
    });
    await runPlugin(plugin, "CHECK", stdin, rt, resolved);
  }
}
