/**
 * The VERSION verb (libcni's `GetVersionInfo`).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, PluginError } from "../spec/errors.ts";
import { CURRENT_VERSION } from "../spec/version.ts";
import { buildPluginEnv } from "../invoke/plugin_env.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";
import { parseJson } from "../spec/json.ts";

/** A plugin's VERSION answer. */
export interface PluginVersionInfo {
  /** The version of the answer itself. */
  cniVersion: string;
  /** The versions the plugin speaks. */
  supportedVersions: string[];
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * Runs `type` with `CNI_COMMAND=VERSION`. A plugin older than VERSION
 * (it answers `unknown CNI_COMMAND: VERSION`) speaks 0.1.0 only; an answer
 * of bare `{"cniVersion":"0.2.0"}` means 0.1.0 and 0.2.0.
 *
 * @example The versions a plugin speaks
 * ```ts ignore
 * import { getVersionInfo } from "./mod.ts";
 *
 * const info = await getVersionInfo("bridge", { binDirs: ["/usr/lib/cni"] });
 * console.log(info.supportedVersions);
 * ```
 * @throws {CniError} code 6 when the answer cannot be decoded
 */
export async function getVersionInfo(
  type: string,
  options?: EngineOptions,
): Promise<PluginVersionInfo> {
  const resolved = resolveEngineOptions(options);
  const pluginPath = await resolved.findPlugin(type);
  // The dummy values keep very old skel builds from refusing the call.
  const env = buildPluginEnv({
    command: "VERSION",
    netns: "dummy",
    ifName: "dummy",
    binDirs: ["dummy"],
  }, resolved.env);
  let stdout: Uint8Array;
  try {
    stdout = await resolved.exec.execPlugin({
      pluginPath,
      pluginType: type,
      command: "VERSION",
      env,
      stdin: ENCODER.encode(JSON.stringify({ cniVersion: CURRENT_VERSION })),
      timeoutMs: resolved.timeoutMs,
    });
  } catch (error) {
    if (
      error instanceof PluginError &&
      error.message.endsWith("unknown CNI_COMMAND: VERSION")
    ) {
      return { cniVersion: "0.1.0", supportedVersions: ["0.1.0"] };
    }
    throw error;
  }
  return decodeVersionInfo(type, DECODER.decode(stdout));
}

function decodeVersionInfo(type: string, text: string): PluginVersionInfo {
  const fail = (why: string): never => {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `Cannot decode the VERSION answer of plugin "${type}": ${why}`,
    );
  };
  const value = parseJson(text, fail);
  const obj = (value ?? {}) as {
    cniVersion?: unknown;
    supportedVersions?: unknown;
  };
  if (typeof obj.cniVersion !== "string" || obj.cniVersion === "") {
    fail("missing field cniVersion");
  }
  const cniVersion = obj.cniVersion as string;
  const list = obj.supportedVersions;
  if (list === undefined && cniVersion === "0.2.0") {
    return { cniVersion, supportedVersions: ["0.1.0", "0.2.0"] };
  }
  if (
    !Array.isArray(list) || list.length === 0 ||
    !list.every((v) => typeof v === "string")
  ) {
    fail("missing field supportedVersions");
  }
  return { cniVersion, supportedVersions: list as string[] };
}
