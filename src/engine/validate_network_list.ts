/**
 * Plugin validation (libcni's `ValidateNetworkList`).
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  toCniError,
} from "../spec/errors.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { getVersionInfo } from "./get_version_info.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";
import { isJsonObject } from "../spec/json.ts";

/**
 * Checks that every plugin binary exists and supports the list's version
 * (verbatim, as libcni: "1.0" does not match "1.0.0"; no version means
 * "0.1.0"). Returns the capabilities the plugins declare `true`.
 *
 * @example Which capabilities does a network take?
 * ```ts ignore
 * import { loadNetworkConfigList, validateNetworkList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const capabilities = await validateNetworkList(list, { binDirs: ["/usr/lib/cni"] });
 * console.log(capabilities.includes("portMappings"));
 * ```
 * @throws {AggregateCniError} listing every plugin that failed
 */
export async function validateNetworkList(
  list: NetworkConfigList,
  options?: EngineOptions,
): Promise<string[]> {
  const resolved = resolveEngineOptions(options);
  const version = list.cniVersion || "0.1.0";
  const failures: CniError[] = [];
  const capabilities = new Set<string>();
  for (const plugin of list.plugins) {
    try {
      const info = await getVersionInfo(plugin.type, resolved);
      if (!info.supportedVersions.includes(version)) {
        throw new CniError(
          CNI_ERROR_CODES.incompatibleCniVersion,
          `Plugin "${plugin.type}" does not support config version "${version}" (it supports ${
            info.supportedVersions.join(", ")
          })`,
        );
      }
      const caps = plugin.raw.capabilities;
      if (isJsonObject(caps)) {
        for (const [name, on] of Object.entries(caps)) {
          if (on === true) capabilities.add(name);
        }
      }
    } catch (error) {
      failures.push(toCniError(error));
    }
  }
  if (failures.length) {
    throw new AggregateCniError(
      `Network "${list.name}" is not usable`,
      failures,
    );
  }
  return [...capabilities];
}
