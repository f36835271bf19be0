// Pure: no Deno API.
/**
 * The environment a plugin runs with.
 *
 * @module
 */
import type { CniArg } from "../spec/types.ts";
import type { CniCommand } from "../spec/errors.ts";

/** The six CNI variables of one call. */
export interface PluginEnvArgs {
  /** `CNI_COMMAND`. */
  command: CniCommand;
  /** `CNI_CONTAINERID`. */
  containerId?: string;
  /** `CNI_NETNS`. */
  netns?: string;
  /** `CNI_IFNAME`. */
  ifName?: string;
  /** `CNI_ARGS` pairs. */
  args?: readonly CniArg[];
  /** The bin dirs, joined into `CNI_PATH`. */
  binDirs: readonly string[];
}

/**
 * Builds a plugin's environment: `base` without any inherited `CNI_*`
 * variable, then all six CNI variables (empty when unused), as libcni does.
 */
export function buildPluginEnv(
  args: PluginEnvArgs,
  base: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (!key.startsWith("CNI_")) env[key] = value;
  }
  env.CNI_COMMAND = args.command;
  env.CNI_CONTAINERID = args.containerId ?? "";
  env.CNI_NETNS = args.netns ?? "";
  env.CNI_IFNAME = args.ifName ?? "";
  env.CNI_ARGS = formatCniArgs(args.args ?? []);
  env.CNI_PATH = args.binDirs.join(":");
  return env;
}

/** `K=V;K2=V2`, no escaping (values are validated by the front end). */
export function formatCniArgs(args: readonly CniArg[]): string {
  return args.map(([k, v]) => `${k}=${v}`).join(";");
}
