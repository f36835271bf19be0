// Pure: no Deno API.
/**
 * libcni's result cache entry (`kind: "cniCacheV1"`), byte-compatible both
 * ways: libcni reads what cnishim writes and the other way round.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniArg, CniResult, JsonObject } from "../spec/types.ts";
import { isJsonObject, parseJson } from "../spec/json.ts";

/** The `kind` libcni writes. */
const CACHE_KIND = "cniCacheV1";

/** A decoded cache entry. */
export interface CacheEntry {
  /** The container ID. */
  containerId: string;
  /** The network config list bytes that ADD ran. */
  config: Uint8Array;
  /** The interface name. */
  ifName: string;
  /** The network name. */
  networkName: string;
  /** The netns path at ADD; "" when unknown (libcni ≤ 1.1 entries). */
  netns: string;
  /** `CNI_ARGS` pairs at ADD. */
  cniArgs: CniArg[];
  /** Capability args at ADD (all of them, not only the declared ones). */
  capabilityArgs: JsonObject;
  /**
   * The final ADD result; absent while an ADD is in progress (cnishim writes
   * the entry before the first plugin runs so a DEL after a crash can replay it).
   */
  result?: CniResult;
}

/** The file name: `<network>-<containerID>-<ifname>` (libcni's). */
export function cacheFileName(
  networkName: string,
  containerId: string,
  ifName: string,
): string {
  if (!networkName || !containerId || !ifName) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      `Cannot build a cache file name: network name ("${networkName}"), container ID ("${containerId}") and interface name ("${ifName}") are all required`,
    );
  }
  return `${networkName}-${containerId}-${ifName}`;
}

/** Encodes an entry as libcni does: compact JSON, keys in libcni's order, empty fields omitted. */
export function encodeCacheEntry(entry: CacheEntry): string {
  const out: JsonObject = {
    kind: CACHE_KIND,
    containerId: entry.containerId,
    config: entry.config.toBase64(),
    ifName: entry.ifName,
    networkName: entry.networkName,
  };
  if (entry.netns) out.netns = entry.netns;
  if (entry.cniArgs.length) out.cniArgs = entry.cniArgs;
  if (Object.keys(entry.capabilityArgs).length) {
    out.capabilityArgs = entry.capabilityArgs;
  }
  if (entry.result) out.result = entry.result;
  return JSON.stringify(out);
}

/** What a cache file holds: a current entry, or the raw result of libcni ≤ 0.7. */
export type DecodedCacheFile =
  | { kind: "entry"; entry: CacheEntry }
  | { kind: "legacy"; result: CniResult };

/**
 * Decodes a cache file. Keys are matched case-insensitively, as Go does
 * (CRI-O reads `containerID`).
 *
 * @throws {CniError} code 6 when the file is empty, not JSON, or malformed
 */
export function decodeCacheFile(text: string): DecodedCacheFile {
  const value = parseJson(text, "Cannot decode cache entry");
  if (!isJsonObject(value)) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      "Cannot decode cache entry: not a JSON object",
    );
  }
  const obj = foldKeys(value);
  if (obj.kind !== CACHE_KIND) {
    return { kind: "legacy", result: value as CniResult };
  }
  const str = (key: string): string => {
    const v = obj[key.toLowerCase()];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") {
      throw new CniError(
        CNI_ERROR_CODES.decodingFailure,
        `Cannot decode cache entry: "${key}" is not a string`,
      );
    }
    return v;
  };
  const args = obj.cniargs ?? [];
  if (
    !Array.isArray(args) ||
    !args.every((p) =>
      Array.isArray(p) && p.length === 2 &&
      p.every((s) => typeof s === "string")
    )
  ) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      'Cannot decode cache entry: "cniArgs" is not a list of [key, value] pairs',
    );
  }
  const caps = obj.capabilityargs ?? {};
  const result = obj.result;
  if (
    !isJsonObject(caps) ||
    (result !== undefined && result !== null && !isJsonObject(result))
  ) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      'Cannot decode cache entry: "capabilityArgs" and "result" must be objects',
    );
  }
  const entry: CacheEntry = {
    containerId: str("containerId"),
    config: fromBase64(str("config")),
    ifName: str("ifName"),
    networkName: str("networkName"),
    netns: str("netns"),
    cniArgs: args as CniArg[],
    capabilityArgs: (caps ?? {}) as JsonObject,
  };
  if (result) entry.result = result as CniResult;
  return { kind: "entry", entry };
}

function foldKeys(obj: JsonObject): JsonObject {
  // No prototype: a "__proto__" key stays a plain key.
  const out: JsonObject = Object.create(null);
  for (const [k, v] of Object.entries(obj)) {
    const key = k.toLowerCase();
    if (!(key in out)) out[key] = v;
  }
  return out;
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      'Cannot decode cache entry: "config" is not base64',
    );
  }
}
