// Pure: no Deno API.
/**
 * CNI version strings, compared the way libcni's `version.ParseVersion`
 * does: "" means 0.1.0, at most three numeric parts, missing parts are 0,
 * no pre-release tags. That is not semver (semver rejects "1" and accepts
 * "1.0.0-rc1"), which is why npm:semver is not used here; it would also cost
 * ~28 ms of start-up per pod.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "./errors.ts";

/** The versions cnishim speaks, oldest first. */
export const SUPPORTED_VERSIONS: readonly string[] = [
  "0.1.0",
  "0.2.0",
  "0.3.0",
  "0.3.1",
  "0.4.0",
  "1.0.0",
  "1.1.0",
];

/** The newest version cnishim speaks (libcni's `version.Current()`). */
export const CURRENT_VERSION = "1.1.0";

/** A parsed version: major, minor, patch. */
export type VersionTuple = readonly [number, number, number];

const PART = /^(0|[1-9][0-9]*)$/;

/**
 * Parses a CNI version string.
 *
 * @example Usage
 * ```ts
 * import { parseVersion } from "./version.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseVersion("1"), [1, 0, 0]);
 * deepEqual(parseVersion(""), [0, 1, 0]);
 * ```
 * @throws {CniError} code 1 when the string is not a version
 */
export function parseVersion(version: string): VersionTuple {
  if (version === "") return [0, 1, 0];
  const parts = version.split(".");
  if (parts.length > 3 || parts.some((p) => !PART.test(p))) {
    throw new CniError(
      CNI_ERROR_CODES.incompatibleCniVersion,
      `Cannot parse CNI version "${version}": expected up to three numeric parts`,
    );
  }
  const n = parts.map(Number);
  return [n[0] ?? 0, n[1] ?? 0, n[2] ?? 0];
}

/** Like {@link parseVersion}, but `undefined` instead of throwing. */
export function tryParseVersion(version: string): VersionTuple | undefined {
  try {
    return parseVersion(version);
  } catch {
    return undefined;
  }
}

/** Compares two versions: negative, zero or positive like `Array#sort`. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** True when `version` is at least `minimum`; false when either is unparseable. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const x = tryParseVersion(version);
  if (!x) return false;
  const y = parseVersion(minimum);
  return (x[0] - y[0] || x[1] - y[1] || x[2] - y[2]) >= 0;
}

/** True when `version` is one cnishim knows. */
export function isSupportedVersion(version: string): boolean {
  return SUPPORTED_VERSIONS.includes(version);
}

/** CHECK exists from 0.4.0 on. */
export function supportsCheck(version: string): boolean {
  return versionAtLeast(version, "0.4.0");
}

/** DEL gets the cached result as prevResult from 0.4.0 on. */
export function supportsPrevResultOnDel(version: string): boolean {
  return versionAtLeast(version, "0.4.0");
}

/** GC and STATUS exist from 1.1.0 on. */
export function supportsGcAndStatus(version: string): boolean {
  return versionAtLeast(version, "1.1.0");
}
