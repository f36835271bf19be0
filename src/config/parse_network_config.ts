/**
 * Network configuration parsing (libcni's `NetworkConfFromBytes`,
 * `ConfFromBytes` and `ConfListFromConf`), accepting JSONC.
 *
 * @module
 */
import { CNI_ERROR_CODES, ConfigError, errorText } from "../spec/errors.ts";
import {
  validateNetworkName,
  validatePluginType,
} from "../spec/identifiers.ts";
import type {
  JsonObject,
  NetworkConfigList,
  PluginConfig,
} from "../spec/types.ts";
import {
  compareVersions,
  CURRENT_VERSION,
  SUPPORTED_VERSIONS,
  tryParseVersion,
} from "../spec/version.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";

/** How to read the bytes. */
export type ConfigFormat = "conflist" | "conf" | "auto";

/** Options of {@link parseNetworkConfigList}. */
export interface ParseConfigOptions {
  /** Where the bytes came from, for messages. */
  source?: string | undefined;
  /**
   * `conflist`: a list; `conf`: one plugin lifted to a list; `auto`: a list
   * when there is a `plugins` key.
   * @default {"auto"}
   */
  format?: ConfigFormat;
}

/** Largest config file accepted (iSulad's limit). */
export const MAX_CONFIG_FILE_SIZE = 1024 * 1024;

const DECODER = new TextDecoder("utf-8", { fatal: true });
const ENCODER = new TextEncoder();

/**
 * Parses a network configuration. Comments and trailing commas are
 * accepted; the cache then stores canonical JSON so libcni can read it.
 *
 * @example Usage
 * ```ts
 * import { parseNetworkConfigList } from "./parse_network_config.ts";
 * import { equal } from "node:assert/strict";
 * const text = '{"cniVersion": "1.0.0", "name": "n", // a comment\n "type": "bridge"}';
 * const list = await parseNetworkConfigList(new TextEncoder().encode(text));
 * equal(list.plugins[0]?.type, "bridge");
 * ```
 * @throws {ConfigError} code 6 when undecodable (with line and column), 7 when invalid
 */
export async function parseNetworkConfigList(
  bytes: Uint8Array,
  options: ParseConfigOptions = {},
): Promise<NetworkConfigList> {
  const file = options.source;
  const { value: obj, canonical } = await decodeConfigObject(bytes, file);
  const format = options.format ?? "auto";
  const isList = format === "conflist" ||
    (format === "auto" && Object.hasOwn(obj, "plugins"));
  if (!isList) {
    const lifted = {
      cniVersion: obj.cniVersion,
      name: obj.name,
      plugins: [obj],
    };
    if (lifted.cniVersion === undefined) delete lifted.cniVersion;
    return listFrom(lifted, ENCODER.encode(JSON.stringify(lifted)), file);
  }
  return listFrom(
    obj,
    canonical ? ENCODER.encode(JSON.stringify(obj)) : bytes,
    file,
  );
}

/**
 * Decodes a config file's bytes to its JSON object, with the same reader
 * as {@link parseNetworkConfigList} (JSON, else JSONC), without checking
 * what the object holds. `canonical` tells that the source was JSONC.
 *
 * @throws {ConfigError} code 6 naming `source`, the line and the column
 */
export async function decodeConfigObject(
  bytes: Uint8Array,
  source?: string,
): Promise<{ value: JsonObject; canonical: boolean }> {
  const where = () => (source ? { file: source } : {});
  let text: string;
  try {
    text = DECODER.decode(bytes);
  } catch {
    throw new ConfigError(
      CNI_ERROR_CODES.decodingFailure,
      "Cannot decode network config: not UTF-8",
      where(),
    );
  }
  let value = tryParseJson(text);
  let canonical = false;
  if (value === undefined) {
    const { parseJsonc } = await import("./_jsonc.ts");
    const parsed = await parseJsonc(text);
    if ("error" in parsed) {
      throw new ConfigError(
        CNI_ERROR_CODES.decodingFailure,
        `Cannot parse network config: ${parsed.error.message}`,
        { ...where(), line: parsed.error.line, column: parsed.error.column },
      );
    }
    value = parsed.value;
    canonical = true;
  }
  if (!isJsonObject(value)) {
    throw new ConfigError(
      CNI_ERROR_CODES.decodingFailure,
      "Cannot parse network config: not a JSON object",
      where(),
    );
  }
  return { value: value as JsonObject, canonical };
}

function listFrom(
  obj: JsonObject,
  bytes: Uint8Array,
  file: string | undefined,
): NetworkConfigList {
  const fail = (
    field: string,
    why: string,
    code: number = CNI_ERROR_CODES.invalidNetworkConfig,
  ): never => {
    throw new ConfigError(code, `Invalid network config: ${why}`, {
      ...(file ? { file } : {}),
      field,
    });
  };
  if (!Object.hasOwn(obj, "name")) fail("name", "missing network name");
  if (typeof obj.name !== "string") {
    fail("name", `"name" must be a string, not ${typeOf(obj.name)}`);
  }
  const name = obj.name as string;
  try {
    validateNetworkName(name);
  } catch (error) {
    fail("name", errorText(error));
  }
  const cniVersion = negotiateVersion(obj, fail);
  const flags = Object.fromEntries(
    ["disableCheck", "disableGC", "loadOnlyInlinedPlugins"].map((
      k,
    ) => [k, boolField(obj[k], k, fail)]),
  );
  if (!Object.hasOwn(obj, "plugins")) fail("plugins", "missing plugins");
  if (!Array.isArray(obj.plugins)) {
    fail("plugins", `"plugins" must be a list, not ${typeOf(obj.plugins)}`);
  }
  const raw = obj.plugins as unknown[];
  if (raw.length === 0) fail("plugins", "no plugins in list");
  const plugins = raw.map((p, i): PluginConfig => {
    const at = `plugins[${i}]`;
    if (!isJsonObject(p)) {
      fail(at, `plugin ${i} must be an object, not ${typeOf(p)}`);
    }
    const plugin = p as JsonObject;
    if (!Object.hasOwn(plugin, "type")) fail(`${at}.type`, "missing 'type'");
    if (typeof plugin.type !== "string") {
      fail(`${at}.type`, `"type" must be a string, not ${typeOf(plugin.type)}`);
    }
    pluginName(plugin.type as string, `${at}.type`, fail);
    if (plugin.capabilities !== undefined) {
      const caps = plugin.capabilities;
      if (!isJsonObject(caps)) {
        fail(
          `${at}.capabilities`,
          `"capabilities" must be an object, not ${typeOf(caps)}`,
        );
      }
      for (const [k, v] of Object.entries(caps as JsonObject)) {
        if (typeof v !== "boolean") {
          fail(
            `${at}.capabilities.${k}`,
            `capability "${k}" must be true or false, not ${typeOf(v)}`,
          );
        }
      }
    }
    if (plugin.ipam !== undefined) {
      const ipam = plugin.ipam;
      if (!isJsonObject(ipam)) {
        fail(`${at}.ipam`, `"ipam" must be an object, not ${typeOf(ipam)}`);
      }
      const t = (ipam as JsonObject).type;
      if (t !== undefined) {
        if (typeof t !== "string") {
          fail(
            `${at}.ipam.type`,
            `"ipam.type" must be a string, not ${typeOf(t)}`,
          );
        }
        pluginName(t as string, `${at}.ipam.type`, fail);
      }
    }
    if (plugin.dns !== undefined) dnsBlock(plugin.dns, `${at}.dns`, fail);
    for (const key of ["name", "cniVersion"]) {
      if (plugin[key] !== undefined && typeof plugin[key] !== "string") {
        fail(
          `${at}.${key}`,
          `"${key}" must be a string, not ${typeOf(plugin[key])}`,
        );
      }
    }
    return {
      type: plugin.type as string,
      ...(typeof plugin.name === "string" && plugin.name
        ? { name: plugin.name }
        : {}),
      raw: plugin,
    };
  });
  return {
    name,
    cniVersion,
    disableCheck: flags.disableCheck!,
    disableGC: flags.disableGC!,
    plugins,
    bytes,
    ...(file ? { source: file } : {}),
  };
}

type Fail = (field: string, why: string, code?: number) => never;

// libcni's negotiation: the highest supported entry of cniVersions (plus
// cniVersion), else cniVersion itself, which must be a version we speak.
function negotiateVersion(obj: JsonObject, fail: Fail): string {
  const plain = obj.cniVersion;
  if (plain !== undefined && typeof plain !== "string") {
    fail("cniVersion", `"cniVersion" must be a string, not ${typeOf(plain)}`);
  }
  let version = (plain as string | undefined) ?? "";
  if (obj.cniVersions !== undefined) {
    if (!Array.isArray(obj.cniVersions)) {
      fail(
        "cniVersions",
        `"cniVersions" must be a list, not ${typeOf(obj.cniVersions)}`,
      );
    }
    const candidates: string[] = [];
    for (const [i, v] of (obj.cniVersions as unknown[]).entries()) {
      if (typeof v !== "string" || !tryParseVersion(v)) {
        fail(
          `cniVersions[${i}]`,
          `invalid cniVersions entry ${JSON.stringify(v)}`,
        );
      }
      if (compareVersions(v as string, CURRENT_VERSION) <= 0) {
        candidates.push(v as string);
      }
    }
    if (
      version && tryParseVersion(version) &&
      compareVersions(version, CURRENT_VERSION) <= 0
    ) candidates.push(version);
    const best = candidates.sort(compareVersions).pop();
    if (best) version = best;
  }
  if (version !== "" && !SUPPORTED_VERSIONS.includes(version)) {
    fail(
      "cniVersion",
      `unsupported cniVersion ${JSON.stringify(version)} (supported: ${
        SUPPORTED_VERSIONS.join(", ")
      })`,
      CNI_ERROR_CODES.incompatibleCniVersion,
    );
  }
  return version;
}

function boolField(v: unknown, field: string, fail: Fail): boolean {
  if (v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false)$/i.test(v)) {
    return v.toLowerCase() === "true";
  }
  return fail(
    field,
    `"${field}" must be true or false, not ${JSON.stringify(v)}`,
  );
}

// libcni decodes every plugin into types.NetConf, whose DNS block has typed
// fields: a wrong type there fails the load, so the file is not a network
// (and cannot become the default one) there either. null is Go's zero value.
function dnsBlock(dns: unknown, field: string, fail: Fail): void {
  if (dns === null) return;
  if (!isJsonObject(dns)) {
    fail(field, `"dns" must be an object, not ${typeOf(dns)}`);
  }
  const block = dns as JsonObject;
  for (const key of ["nameservers", "search", "options"]) {
    const v = block[key];
    if (
      v !== undefined && v !== null &&
      !(Array.isArray(v) && v.every((x) => typeof x === "string"))
    ) {
      fail(
        `${field}.${key}`,
        `"dns.${key}" must be a list of strings, not ${
          Array.isArray(v) ? "a list holding a non-string" : typeOf(v)
        }`,
      );
    }
  }
  const domain = block.domain;
  if (domain !== undefined && domain !== null && typeof domain !== "string") {
    fail(
      `${field}.domain`,
      `"dns.domain" must be a string, not ${typeOf(domain)}`,
    );
  }
}

function pluginName(type: string, field: string, fail: Fail): void {
  try {
    validatePluginType(type);
  } catch (error) {
    fail(field, errorText(error));
  }
}

function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "a list" : typeof v;
}

/**
 * Reads and parses a config file; `.conflist` files are lists, `.conf` and
 * `.json` single plugins or lists. Files over 1 MiB are refused. `known` is
 * the file's stat when the caller (a directory scan) already has it.
 *
 * @example Load one file
 * ```ts ignore
 * import { loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * console.log(list.name, list.plugins.map((p) => p.type));
 * ```
 * @throws {ConfigError} naming the file
 */
export async function loadNetworkConfigList(
  path: string,
  known?: Deno.FileInfo,
): Promise<NetworkConfigList> {
  let info: Deno.FileInfo;
  try {
    info = known ?? await Deno.stat(path);
  } catch (error) {
    throw new ConfigError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot read network config: ${errorText(error)}`,
      { file: path },
    );
  }
  if (!info.isFile) {
    throw new ConfigError(
      CNI_ERROR_CODES.ioFailure,
      "Cannot read network config: not a regular file",
      { file: path },
    );
  }
  if (info.size > MAX_CONFIG_FILE_SIZE) {
    throw new ConfigError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Cannot use network config: ${info.size} bytes is over the limit of ${MAX_CONFIG_FILE_SIZE}`,
      { file: path },
    );
  }
  const bytes = await Deno.readFile(path);
  return await parseNetworkConfigList(bytes, {
    source: path,
    format: path.endsWith(".conflist") ? "conflist" : "auto",
  });
}
