/**
 * One plugin call from the engine's point of view: find, build env, exec.
 *
 * @module
 */
import type { CniCommand } from "../spec/errors.ts";
import type {
  JsonObject,
  NetworkConfigList,
  PluginConfig,
  RuntimeConf,
} from "../spec/types.ts";
import { buildPluginEnv } from "../invoke/plugin_env.ts";
import type { ResolvedEngineOptions } from "./engine_options.ts";

const ENCODER = new TextEncoder();

/**
 * Starts looking up every plugin of `list` at once (each is found once per
 * resolved options), so that the look-ups overlap other work instead of
 * each delaying its plugin's spawn. A missing plugin fails when it is run,
 * as without this.
 */
export function prefetchPlugins(
  list: NetworkConfigList,
  options: ResolvedEngineOptions,
): void {
  for (const plugin of list.plugins) {
    options.findPlugin(plugin.type).catch(() => {});
  }
}

/** Runs `plugin` with `command`; returns its stdout. */
export async function runPlugin(
  plugin: PluginConfig,
  command: CniCommand,
  stdin: JsonObject,
  rt: RuntimeConf | undefined,
  options: ResolvedEngineOptions,
): Promise<Uint8Array> {
  const pluginPath = await options.findPlugin(plugin.type);
  const env = buildPluginEnv({
    command,
    containerId: rt?.containerId ?? "",
    netns: rt?.netns ?? "",
    ifName: rt?.ifName ?? "",
    args: rt?.args ?? [],
    binDirs: options.binDirs,
  }, options.env);
  return await options.exec.execPlugin({
    pluginPath,
    pluginType: plugin.type,
    command,
    env,
    stdin: ENCODER.encode(JSON.stringify(stdin)),
    timeoutMs: command === "DEL" ? options.delTimeoutMs : options.timeoutMs,
  });
}
