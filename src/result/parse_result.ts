// Pure: no Deno API.
/**
 * Decoding a plugin's ADD result (libcni's `invoke.ExecPluginWithResult`
 * and the per-family result creators).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniResult, JsonObject } from "../spec/types.ts";
import { parseCidr, parseIp } from "../spec/ip_address.ts";
import { resultFamily } from "./convert_result.ts";
import { isJsonObject } from "../spec/json.ts";

/**
 * Checks a decoded result against its version's shape and returns it
 * unchanged (it is handed on verbatim as the next `prevResult`). `null`
 * becomes `{}`; a missing or empty `cniVersion` becomes `fallbackVersion`
 * (the config's), or `0.1.0` when that is empty too, as libcni labels it.
 *
 * @example Usage
 * ```ts
 * import { parseResult } from "./parse_result.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseResult({ ips: [{ address: "10.0.0.2/24" }] }, "1.0.0"), {
 *   cniVersion: "1.0.0",
 *   ips: [{ address: "10.0.0.2/24" }],
 * });
 * ```
 * @throws {CniError} code 1 for an unknown version, 6 for a malformed field
 */
export function parseResult(
  input: unknown,
  fallbackVersion: string,
): CniResult {
  const value = input ?? {};
  if (!isJsonObject(value)) {
    throw bad("", "not a JSON object");
  }
  const result = value as CniResult;
  if (typeof result.cniVersion !== "string" || result.cniVersion === "") {
    // A config without cniVersion speaks 0.1.0, and libcni labels such a
    // result so (version.ConfigDecoder); "" would be no version at all.
    result.cniVersion = fallbackVersion || "0.1.0";
  }
  const family = resultFamily(result.cniVersion ?? "");
  if (family === "020") {
    for (const key of ["ip4", "ip6"]) {
      const block = result[key];
      if (block === undefined || block === null) continue;
      const o = object(block, key);
      cidr(o.ip, `${key}.ip`);
      optionalIp(o.gateway, `${key}.gateway`);
      routes(o.routes, `${key}.routes`);
    }
  } else {
    list(result.interfaces, "interfaces").forEach((it, i) => {
      const o = object(it, `interfaces[${i}]`);
      if (typeof o.name !== "string") {
        throw bad(`interfaces[${i}].name`, "must be a string");
      }
    });
    list(result.ips, "ips").forEach((it, i) => {
      const o = object(it, `ips[${i}]`);
      cidr(o.address, `ips[${i}].address`);
      optionalIp(o.gateway, `ips[${i}].gateway`);
      if (
        o.interface !== undefined && o.interface !== null &&
        !(Number.isInteger(o.interface) && (o.interface as number) >= 0)
      ) {
        throw bad(`ips[${i}].interface`, "must be a non-negative integer");
      }
    });
    routes(result.routes, "routes");
  }
  if (result.dns !== undefined && result.dns !== null) {
    object(result.dns, "dns");
  }
  return result;
}

/** Like {@link parseResult}, `undefined` instead of throwing. */
export function tryParseResult(
  input: unknown,
  fallbackVersion: string,
): CniResult | undefined {
  try {
    return parseResult(input, fallbackVersion);
  } catch {
    return undefined;
  }
}

function bad(field: string, why: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.decodingFailure,
    `Cannot decode result${field ? ` field "${field}"` : ""}: ${why}`,
  );
}

function object(v: unknown, field: string): JsonObject {
  if (!isJsonObject(v)) {
    throw bad(field, "must be an object");
  }
  return v as JsonObject;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(field, "must be a list");
  return v;
}

function cidr(v: unknown, field: string): void {
  if (typeof v !== "string" || !parseCidr(v)) {
    throw bad(
      field,
      `${JSON.stringify(v)} is not an address with a prefix length`,
    );
  }
}

function optionalIp(v: unknown, field: string): void {
  if (v === undefined || v === null || v === "") return;
  if (typeof v !== "string" || !parseIp(v)) {
    throw bad(field, `${JSON.stringify(v)} is not an IP address`);
  }
}

function routes(v: unknown, field: string): void {
  list(v, field).forEach((r, i) => {
    const o = object(r, `${field}[${i}]`);
    if (o.dst !== undefined) cidr(o.dst, `${field}[${i}].dst`);
    optionalIp(o.gw, `${field}[${i}].gw`);
  });
}
