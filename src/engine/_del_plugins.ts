/**
 * DEL over a plugin list in reverse, stopping at the first failure: shared
 * by `delNetworkList` and the rollback of a failed ADD.
 *
 * @module
 */
import { DelStoppedError, toCniError } from "../spec/errors.ts";
import type {
  CniResult,
  NetworkConfigList,
  RuntimeConf,
} from "../spec/types.ts";
import { supportsPrevResultOnDel } from "../spec/version.ts";
import { buildPluginConfig } from "./build_plugin_config.ts";
import { runPlugin } from "./_run_plugin.ts";
import type { ResolvedEngineOptions } from "./engine_options.ts";

/**
 * Sends DEL to every plugin of `list`, last to first, and stops at the first
 * that fails (the spec's "must stop"): had a failing portmap been passed
 * over, the IPAM below it would release an address its DNAT rules still
 * point at, and the next pod given that address would receive the old
 * pod's host-port traffic. Returns where it stopped, or `undefined`.
 */
export async function delPlugins(
  list: NetworkConfigList,
  rt: RuntimeConf,
  prevResult: CniResult | undefined,
  options: ResolvedEngineOptions,
): Promise<DelStoppedError | undefined> {
  const withPrev = supportsPrevResultOnDel(list.cniVersion)
    ? prevResult
    : undefined;
  for (let i = list.plugins.length - 1; i >= 0; i--) {
    const plugin = list.plugins[i]!;
    const stdin = buildPluginConfig(list, plugin, {
      prevResult: withPrev,
      capabilityArgs: rt.capabilityArgs,
    });
    try {
      await runPlugin(plugin, "DEL", stdin, rt, options);
    } catch (error) {
      return new DelStoppedError(toCniError(error), {
        network: list.name,
        failedPlugin: plugin.type,
        notDeleted: list.plugins.slice(0, i).reverse().map((p) => p.type),
      });
    }
  }
  return undefined;
}
