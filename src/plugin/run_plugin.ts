/**
 * Plugin mode: the binary was exec'd by a runtime (or libcni) with
 * `CNI_COMMAND` set, whatever its name (argv[0] is not looked at: every
 * link is the same program). It reads the config on stdin, picks the
 * plugin by the config's `type` (`cnishim`: the front end, a runtime's one
 * CNI plugin; `dockin-cni` / `cnishim-multinet`: the multi-NIC meta
 * plugin; `dockin-ipam` / `cnishim-static` as `ipam.type` or `type`: the
 * static IPAM) and answers exactly as the spec says: a result or an error
 * object on stdout and nothing else there, exit 0 or 1.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  type CniErrorObject,
  errorText,
  toCniError,
} from "../spec/errors.ts";
import type { CniResult, JsonObject, ProcessIo } from "../spec/types.ts";
import { CURRENT_VERSION } from "../spec/version.ts";
import { SELF_TYPE } from "../config/load_networks.ts";
import { checkEnv, decodeCall, type PluginCall, versionInfo } from "./_skel.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";

/** The `type` names of the meta plugin. */
export const META_PLUGIN_TYPES: readonly string[] = [
  "dockin-cni",
  "cnishim-multinet",
];
/** The `type` names of the static IPAM. */
export const STATIC_IPAM_TYPES: readonly string[] = [
  "dockin-ipam",
  "cnishim-static",
];

/** Every name the binary answers to as a plugin (the links a package installs). */
export const PLUGIN_NAMES: readonly string[] = [
  ...META_PLUGIN_TYPES,
  ...STATIC_IPAM_TYPES,
];

/**
 * The front end (`type` `cnishim`): it sits above this layer (it is the
 * command line's settings and the server's client), so the caller hands
 * it in; inside `cnishim serve` it is the server's own.
 */
export type FrontEnd = (
  call: PluginCall,
) => Promise<{ result?: CniResult } | { stdout: string; exitCode: number }>;

/** What {@link runPlugin} can run besides the plugins of this layer. */
export interface PluginHost {
  /** Loads the front end. */
  frontEnd?: () => Promise<FrontEnd>;
  /** Refuse every type but the front end's (a server's `cni` request). */
  frontEndOnly?: boolean;
}

/** Which built-in plugin a config asks for, or `undefined`. */
function pluginKind(
  config: JsonObject,
): "front" | "meta" | "ipam" | undefined {
  const ipam = config.ipam as JsonObject | undefined;
  if (config.type === SELF_TYPE) return "front";
  if (META_PLUGIN_TYPES.includes(config.type as string)) return "meta";
  // An IPAM plugin receives its parent's config: the parent's `type` is the
  // main plugin (bridge), the IPAM's own name is `ipam.type`.
  if (
    isJsonObject(ipam) &&
    STATIC_IPAM_TYPES.includes(ipam.type as string)
  ) return "ipam";
  if (STATIC_IPAM_TYPES.includes(config.type as string)) return "ipam";
  return undefined;
}

/**
 * Runs one plugin call and returns the exit status (0 or 1).
 *
 * @example Usage
 * ```ts
 * import { runPlugin } from "./run_plugin.ts";
 * import { equal } from "node:assert/strict";
 * let out = "";
 * const code = await runPlugin({
 *   stdout: (t) => (out += t),
 *   stderr: () => {},
 *   readStdin: () => Promise.resolve(""),
 *   env: { CNI_COMMAND: "VERSION" },
 * });
 * equal(code, 0);
 * equal(JSON.parse(out).cniVersion, "1.1.0");
 * ```
 */
export async function runPlugin(
  io: ProcessIo,
  host: PluginHost = {},
): Promise<number> {
  let stdin: string | undefined;
  try {
    const command = checkEnv(io.env);
    if (command === "VERSION") {
      io.stdout(JSON.stringify(versionInfo()) + "\n");
      return 0;
    }
    try {
      stdin = await io.readStdin();
    } catch (error) {
      throw new CniError(
        CNI_ERROR_CODES.ioFailure,
        `error reading from stdin: ${errorText(error)}`,
      );
    }
    const call = decodeCall(command, stdin, io.env);
    let result: CniResult | undefined;
    const kind = pluginKind(call.config);
    if (host.frontEndOnly && kind !== "front") {
      throw new CniError(
        CNI_ERROR_CODES.invalidNetworkConfig,
        `cnishim serve runs only the cnishim plugin, not type ${
          JSON.stringify(call.config.type)
        }`,
      );
    }
    switch (kind) {
      case "front": {
        if (!host.frontEnd) {
          throw new CniError(
            CNI_ERROR_CODES.invalidNetworkConfig,
            `The cnishim plugin is not available here`,
          );
        }
        const out = await (await host.frontEnd())(call);
        if ("stdout" in out) {
          // A server's answer, printed as it wrote it.
          io.stdout(out.stdout);
          return out.exitCode;
        }
        result = out.result;
        break;
      }
      case "meta": {
        const { runMetaPlugin } = await import("./meta_plugin.ts");
        result = await runMetaPlugin(call);
        break;
      }
      case "ipam": {
        const { staticIpam } = await import("./static_ipam.ts");
        result = staticIpam(call);
        break;
      }
      default:
        throw new CniError(
          CNI_ERROR_CODES.invalidNetworkConfig,
          `Unknown plugin type ${
            JSON.stringify(call.config.type)
          }: cnishim as a plugin serves the types ${
            [SELF_TYPE, ...META_PLUGIN_TYPES, ...STATIC_IPAM_TYPES].join(", ")
          } (the last two also as ipam.type)`,
        );
    }
    if (result) io.stdout(JSON.stringify(result) + "\n");
    return 0;
  } catch (error) {
    const err = toCniError(error);
    const obj: CniErrorObject = {
      cniVersion: configVersion(stdin),
      ...err.toJSON(),
    };
    io.stdout(JSON.stringify(obj) + "\n");
    return 1;
  }
}

// The error object names the caller's version when its config says one.
function configVersion(stdin: string | undefined): string {
  // Not JSON: the error is about that.
  const config = tryParseJson(stdin ?? "");
  const v = isJsonObject(config) ? config.cniVersion : undefined;
  return typeof v === "string" && v !== "" ? v : CURRENT_VERSION;
}
