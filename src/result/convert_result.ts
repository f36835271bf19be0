// Pure: no Deno API.
/**
 * Result conversion between spec families, as libcni's `convert.Convert`:
 * a static table, no registration at import time.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniResult, JsonObject, Result100 } from "../spec/types.ts";
import { ipFamily } from "../spec/ip_address.ts";

/** The three result families. */
export type ResultFamily = "020" | "040" | "100";

const FAMILIES: Record<string, ResultFamily> = {
  "": "020",
  "0.1.0": "020",
  "0.2.0": "020",
  "0.3.0": "040",
  "0.3.1": "040",
  "0.4.0": "040",
  "1.0.0": "100",
  "1.1.0": "100",
};
const NEWEST: Record<ResultFamily, string> = {
  "020": "0.2.0",
  "040": "0.4.0",
  "100": "1.1.0",
};

/**
 * The family of a result version.
 *
 * @throws {CniError} code 1 for a version cnishim does not know
 */
export function resultFamily(version: string): ResultFamily {
  const family = FAMILIES[version];
  if (!family) {
    throw new CniError(
      CNI_ERROR_CODES.incompatibleCniVersion,
      `Cannot handle CNI result version "${version}": unsupported`,
    );
  }
  return family;
}

type Step = (r: JsonObject) => JsonObject;

const clone = <T>(v: T): T => structuredClone(v);

// 0.1/0.2 → 0.3/0.4: ip4 then ip6 become ips entries; their routes go top level.
const up020: Step = (r) => {
  const out: JsonObject = {};
  const ips: JsonObject[] = [];
  const routes: unknown[] = [];
  for (const [key, version] of [["ip4", "4"], ["ip6", "6"]] as const) {
    const block = r[key] as JsonObject | undefined | null;
    if (!block) continue;
    const ip: JsonObject = { version, address: block.ip };
    if (block.gateway) ip.gateway = block.gateway;
    ips.push(ip);
    routes.push(...((block.routes as unknown[] | undefined) ?? []).map(clone));
  }
  if (ips.length) out.ips = ips;
  if (routes.length) out.routes = routes;
  if (r.dns) out.dns = clone(r.dns);
  return out;
};

// 0.3/0.4 → 0.1/0.2: the first ips entry of each version field wins.
const down040: Step = (r) => {
  const out: JsonObject = {};
  for (const [key, version] of [["ip4", "4"], ["ip6", "6"]] as const) {
    const ip = ((r.ips as JsonObject[] | undefined) ?? []).find((i) =>
      i.version === version
    );
    if (!ip) continue;
    const block: JsonObject = { ip: ip.address };
    if (ip.gateway) block.gateway = ip.gateway;
    out[key] = block;
  }
  if (!out.ip4 && !out.ip6) {
    throw new CniError(
      CNI_ERROR_CODES.incompatibleCniVersion,
      "Cannot convert the result to 0.2.0 or older: no valid IP addresses",
    );
  }
  for (const route of (r.routes as JsonObject[] | undefined) ?? []) {
    const key = ipFamily(String(route.dst ?? "")) === 6 ? "ip6" : "ip4";
    const block = out[key] as JsonObject | undefined;
    if (!block) continue;
    const kept: JsonObject = { dst: route.dst };
    if (route.gw) kept.gw = route.gw;
    ((block.routes ??= []) as JsonObject[]).push(kept);
  }
  out.dns = clone(r.dns ?? {});
  return out;
};

// 0.3/0.4 → 1.x: `version` goes; interfaces keep name, mac, sandbox.
const up040: Step = (r) => {
  const out = clone(r);
  if (Array.isArray(out.ips)) {
    out.ips = (out.ips as JsonObject[]).map(({ version: _, ...ip }) => ip);
  }
  if (Array.isArray(out.interfaces)) {
    out.interfaces = (out.interfaces as JsonObject[]).map(pickInterface);
  }
  return out;
};

// 1.x → 0.3/0.4: `version` from the address; 1.1.0 interface fields go.
const down100: Step = (r) => {
  const out = clone(r);
  if (Array.isArray(out.ips)) {
    out.ips = (out.ips as JsonObject[]).map((ip) => ({
      version: ipFamily(String(ip.address ?? "")) === 4 ? "4" : "6",
      ...ip,
    }));
  }
  if (Array.isArray(out.interfaces)) {
    out.interfaces = (out.interfaces as JsonObject[]).map(pickInterface);
  }
  return out;
};

function pickInterface(i: JsonObject): JsonObject {
  const out: JsonObject = { name: i.name };
  for (const key of ["mac", "sandbox"]) {
    if (i[key] !== undefined) out[key] = i[key];
  }
  return out;
}

const same: Step = (r) => clone(r);

const TABLE: Record<ResultFamily, Record<ResultFamily, Step[]>> = {
  "020": { "020": [same], "040": [up020], "100": [up020, up040] },
  "040": { "020": [down040], "040": [same], "100": [up040] },
  "100": { "020": [down100, down040], "040": [down100], "100": [same] },
};

/**
 * Converts a result to `toVersion` ("" means 0.1.0). The same version
 * returns the very same object; otherwise a new one. To 1.0.0 or 1.1.0
 * the result is typed as a {@link Result100} (libcni's
 * `types100.NewResultFromResult`), the way to read what the engine
 * returned in whatever version its last plugin spoke.
 *
 * @example Usage
 * ```ts
 * import { convertResult } from "./convert_result.ts";
 * import { deepEqual } from "node:assert/strict";
 * const old = { cniVersion: "0.2.0", ip4: { ip: "10.1.0.2/24" } };
 * const result = convertResult(old, "1.0.0");
 * deepEqual(result, {
 *   cniVersion: "1.0.0",
 *   ips: [{ address: "10.1.0.2/24" }],
 * });
 * deepEqual(result.ips?.map((ip) => ip.address), ["10.1.0.2/24"]);
 * ```
 * @throws {CniError} code 1 for unknown versions or a result with nothing to keep
 */
export function convertResult(
  result: CniResult,
  toVersion: "1.0.0" | "1.1.0",
): Result100;
/** Converts a result to `toVersion`, of any family. */
export function convertResult(result: CniResult, toVersion: string): CniResult;
export function convertResult(result: CniResult, toVersion: string): CniResult {
  const target = toVersion === "" ? "0.1.0" : toVersion;
  const from = result.cniVersion ||
    NEWEST[resultFamily(result.cniVersion ?? "")];
  if (from === target) return result;
  const steps = TABLE[resultFamily(from)][resultFamily(target)];
  const { cniVersion: _, ...body } = result;
  const converted = steps.reduce((r, step) => step(r), body as JsonObject);
  return { cniVersion: target, ...converted };
}
