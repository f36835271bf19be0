// Pure: no Deno API.
/**
 * Validation of every identifier that reaches a file path or a process,
 * with libcni's codes (`pkg/utils`): container ID code 3/4, network name 7,
 * interface name 4. cnishim also bounds lengths that libcni leaves open,
 * because they become file names.
 *
 * @module
 */
import { CNI_ERROR_CODES, IdentifierError } from "./errors.ts";

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;
const ENCODER = new TextEncoder();
// Go's unicode.IsSpace, which libcni's ValidateInterfaceName uses: every
// rune it accepts, listed by running it over all of Unicode. JavaScript's
// \s differs on two: it misses U+0085 (NEL) and adds U+FEFF (BOM).
const GO_SPACE =
  /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Longest container ID accepted: the cache file name must stay under 255 bytes. */
export const MAX_CONTAINER_ID_LENGTH = 128;
/**
 * Longest network name accepted: iSulad's limit. The cache file name
 * `<network>-<container>-<ifname>` must still fit in 255 bytes, which
 * `validateAttachment` checks for each attachment.
 */
export const MAX_NETWORK_NAME_LENGTH = 200;
/** Longest file name the file systems take (NAME_MAX). */
export const MAX_FILE_NAME_BYTES = 255;
/** Linux IFNAMSIZ - 1. */
export const MAX_IFNAME_BYTES = 15;

/**
 * Validates a container ID.
 *
 * @example Usage
 * ```ts
 * import { validateContainerId } from "./identifiers.ts";
 * import { throws } from "node:assert/strict";
 * validateContainerId("4f1c2a9e0b7d");
 * throws(() => validateContainerId("../etc"));
 * ```
 * @throws {IdentifierError} code 3 when empty, 4 when malformed
 */
export function validateContainerId(id: string): void {
  if (id === "") {
    throw new IdentifierError(
      CNI_ERROR_CODES.unknownContainer,
      "containerId",
      id,
      "missing container ID",
    );
  }
  if (id.length > MAX_CONTAINER_ID_LENGTH) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "containerId",
      id,
      `longer than ${MAX_CONTAINER_ID_LENGTH} characters`,
    );
  }
  if (!ID_PATTERN.test(id)) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "containerId",
      id,
      "invalid characters (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
    );
  }
}

/**
 * Validates a network name by the spec's rule.
 *
 * @throws {IdentifierError} code 7
 */
export function validateNetworkName(name: string): void {
  if (name === "") {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "networkName",
      name,
      "missing network name",
    );
  }
  if (name.length > MAX_NETWORK_NAME_LENGTH) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "networkName",
      name,
      `longer than ${MAX_NETWORK_NAME_LENGTH} characters`,
    );
  }
  if (!ID_PATTERN.test(name)) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "networkName",
      name,
      "invalid characters (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
    );
  }
}

/**
 * Validates a Linux interface name: 1–15 bytes, not `.`/`..`, no `/`, `:`
 * or whitespace as Go's `unicode.IsSpace` (libcni's rule) defines it; also
 * no control characters (cnishim's addition: the name becomes a file name
 * and a log field).
 *
 * @example Usage
 * ```ts
 * import { validateIfName } from "./identifiers.ts";
 * import { throws } from "node:assert/strict";
 * validateIfName("eth0");
 * validateIfName("e\ufeff0"); // U+FEFF is no space to Go
 * throws(() => validateIfName("e\u00850")); // U+0085 is
 * ```
 *
 * @throws {IdentifierError} code 4
 */
export function validateIfName(name: string): void {
  const fail = (reason: string): never => {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "ifName",
      name,
      reason,
    );
  };
  if (name === "") fail("interface name is empty");
  if (ENCODER.encode(name).length > MAX_IFNAME_BYTES) {
    fail(`interface name is longer than ${MAX_IFNAME_BYTES} bytes`);
  }
  if (name === "." || name === "..") fail("interface name is . or ..");
  // deno-lint-ignore no-control-regex
  if (/[/:\x00-\x1f\x7f]/.test(name) || hasGoSpace(name)) {
    fail("interface name contains /, :, whitespace or control characters");
  }
}

/**
 * Whether `text` holds a rune Go's `unicode.IsSpace` calls whitespace:
 * libcni's test for interface names, unlike JavaScript's `\s`.
 *
 * @example Usage
 * ```ts
 * import { hasGoSpace } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(hasGoSpace("a\u0085b"), true);
 * equal(hasGoSpace("a\ufeffb"), false);
 * ```
 */
export function hasGoSpace(text: string): boolean {
  return GO_SPACE.test(text);
}

/**
 * Validates a plugin `type`: a bare executable name, never a path.
 *
 * @throws {IdentifierError} code 7
 */
export function validatePluginType(type: string): void {
  const fail = (reason: string): never => {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "type",
      type,
      reason,
    );
  };
  if (type === "") fail("no plugin name provided");
  if (type.length > 255) fail("longer than 255 characters");
  if (type === "." || type === "..") fail("not an executable name");
  // deno-lint-ignore no-control-regex
  if (/[/\x00-\x1f\x7f]/.test(type)) {
    fail("must be a bare executable name (no '/', no control characters)");
  }
}
