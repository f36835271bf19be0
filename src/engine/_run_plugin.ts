/**
 * One plugin call from the engine's point of view: find, build env, exec.
 *
 * @module
 */
import type { CniCommand } from "../spec/errors.ts";
import type { JsonObject, PluginConfig, RuntimeConf } from "../spec/types.ts";
import { buildPluginEnv } from "../invoke/plugin_env.ts";
import type { ResolvedEngineOptions } from "./engine_options.ts";

const ENCODER = new TextEncoder();

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
