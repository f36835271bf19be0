/**
 * DEL over a range of plugins in reverse, continuing past failures: shared
 * by `delNetworkList` and the rollback of a failed ADD.
 *
 * @module
 */
import { type CniError, toCniError } from "../spec/errors.ts";
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
 * Sends DEL to plugins `last` … 0, every one of them even when an earlier
 * DEL failed (so a failing portmap cannot keep the IPAM from releasing).
 * Returns the failures, in call order.
 */
export async function delPlugins(
  list: NetworkConfigList,
  rt: RuntimeConf,
  prevResult: CniResult | undefined,
  last: number,
  options: ResolvedEngineOptions,
): Promise<CniError[]> {
  const failures: CniError[] = [];
  const withPrev = supportsPrevResultOnDel(list.cniVersion)
    ? prevResult
    : undefined;
  for (let i = last; i >= 0; i--) {
    const plugin = list.plugins[i];
    if (!plugin) continue;
    const stdin = buildPluginConfig(list, plugin, {
      prevResult: withPrev,
      capabilityArgs: rt.capabilityArgs,
    });
    try {
      await runPlugin(plugin, "DEL", stdin, rt, options);
    } catch (error) {
      failures.push(toCniError(error));
    }
  }
  return failures;
}
