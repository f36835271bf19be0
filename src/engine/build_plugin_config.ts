// Pure: no Deno API.
/**
 * The request config one plugin receives (libcni's `buildOneConfig` and
 * `injectRuntimeConfig`).
 *
 * @module
 */
import type {
  CniResult,
  GcAttachment,
  JsonObject,
  NetworkConfigList,
  PluginConfig,
} from "../spec/types.ts";
import { isJsonObject } from "../spec/json.ts";

/** What varies per call. */
export interface PluginConfigInputs {
  /** The previous plugin's result (ADD) or the cached result (CHECK, DEL). */
  prevResult?: CniResult | undefined;
  /** The caller's capability args. */
  capabilityArgs?: Readonly<JsonObject> | undefined;
}

/**
 * Builds the stdin of an ADD, CHECK or DEL call: the plugin object with the
 * list's `name` and `cniVersion` injected, `prevResult` when there is one,
 * and `runtimeConfig` replaced by the capability args the plugin declares
 * `true` (left alone when none match). Nothing else is touched.
 */
export function buildPluginConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  inputs: PluginConfigInputs = {},
): JsonObject {
  const config: JsonObject = {
    ...plugin.raw,
    name: list.name,
    cniVersion: list.cniVersion,
  };
  if (inputs.prevResult) config.prevResult = inputs.prevResult;
  const runtimeConfig = pickCapabilities(plugin, inputs.capabilityArgs);
  if (runtimeConfig) config.runtimeConfig = runtimeConfig;
  return config;
}

// The capability args a plugin declared, or `undefined` when none match.
function pickCapabilities(
  plugin: PluginConfig,
  capabilityArgs: Readonly<JsonObject> | undefined,
): JsonObject | undefined {
  const declared = plugin.raw.capabilities;
  if (!capabilityArgs || !isJsonObject(declared)) {
    return undefined;
  }
  let picked: JsonObject | undefined;
  for (const [key, enabled] of Object.entries(declared as JsonObject)) {
    if (enabled === true && Object.hasOwn(capabilityArgs, key)) {
      picked ??= {};
      picked[key] = capabilityArgs[key];
    }
  }
  return picked;
}

/** The stdin of a STATUS call: the plugin object with `name` and `cniVersion`. */
export function buildStatusConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
): JsonObject {
  return { ...plugin.raw, name: list.name, cniVersion: list.cniVersion };
}

/**
 * The stdin of a GC call: as STATUS, plus the valid attachments under both
 * the current key and the one of the early 1.1.0 text (libcni sends both).
 */
export function buildGcConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  validAttachments: readonly GcAttachment[] | undefined,
): JsonObject {
  const config = buildStatusConfig(list, plugin);
  if (validAttachments) {
    config["cni.dev/valid-attachments"] = validAttachments;
    config["cni.dev/attachments"] = validAttachments;
  }
  return config;
}
