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

/** Longest container ID accepted: the cache file name must stay under 255 bytes. */
export const MAX_CONTAINER_ID_LENGTH = 128;
/** Longest network name accepted by the spec-level check. */
export const MAX_NETWORK_NAME_LENGTH = 100;
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
 * or whitespace.
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
  if (/[/:\s\x00-\x1f\x7f]/u.test(name)) {
    fail("interface name contains /, :, whitespace or control characters");
  }
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
