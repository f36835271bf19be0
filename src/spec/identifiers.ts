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
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const IFNAME_CHARS = /[/:]/;
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

/** Which part of an identifier rule a value breaks. */
export type IdentifierRule = "empty" | "length" | "dots" | "characters";

/**
 * An identifier rule broken: which part, and cnishim's words for it. Each
 * caller wraps it in its own code and wording (skel keeps Go's).
 */
export interface IdentifierProblem {
  /** The part of the rule broken. */
  readonly rule: IdentifierRule;
  /** cnishim's words for it, e.g. `longer than 128 characters`. */
  readonly reason: string;
}

// libcni's cniValidNameChars, shared by container IDs and network names.
function nameProblem(
  value: string,
  what: string,
  maxLength: number,
): IdentifierProblem | undefined {
  if (value === "") return { rule: "empty", reason: `missing ${what}` };
  if (value.length > maxLength) {
    return { rule: "length", reason: `longer than ${maxLength} characters` };
  }
  if (!ID_PATTERN.test(value)) {
    return {
      rule: "characters",
      reason: "invalid characters (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
    };
  }
  return undefined;
}

/**
 * The rule of a plain file name cnishim writes besides the cache (the
 * install payload's and manifest's files): the container-ID characters,
 * at most `maxLength` of them, so that no name is a path or hidden.
 *
 * @example Usage
 * ```ts
 * import { fileNameProblem } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(fileNameProblem("cnishim"), undefined);
 * equal(fileNameProblem("../cnishim")?.rule, "characters");
 * ```
 */
export function fileNameProblem(
  name: string,
  maxLength = 100,
): IdentifierProblem | undefined {
  return nameProblem(name, "file name", maxLength);
}

/**
 * The container-ID rule: libcni's `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most
 * `maxLength` characters (libcni sets none; pass `Infinity` for its rule).
 *
 * @example Usage
 * ```ts
 * import { containerIdProblem } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(containerIdProblem("4f1c2a9e0b7d"), undefined);
 * equal(containerIdProblem("../etc")?.rule, "characters");
 * ```
 */
export function containerIdProblem(
  id: string,
  maxLength: number = MAX_CONTAINER_ID_LENGTH,
): IdentifierProblem | undefined {
  return nameProblem(id, "container ID", maxLength);
}

/**
 * The network-name rule of the spec (libcni's, as for container IDs), at
 * most `maxLength` characters (libcni sets none; pass `Infinity` for its
 * rule).
 *
 * @example Usage
 * ```ts
 * import { networkNameProblem } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(networkNameProblem("My_Net.1"), undefined);
 * equal(networkNameProblem("my net")?.rule, "characters");
 * ```
 */
export function networkNameProblem(
  name: string,
  maxLength: number = MAX_NETWORK_NAME_LENGTH,
): IdentifierProblem | undefined {
  return nameProblem(name, "network name", maxLength);
}

/**
 * iSulad's stricter rule for the networks of a conf dir: at most 200
 * characters of `[a-z0-9.-]`, not starting or ending with `.` or `-`.
 * Returns the rule broken, if any, in words that name the rule, as
 * {@link networkNameProblem}'s name the spec's.
 *
 * @example Usage
 * ```ts
 * import { isuladNetworkNameProblem } from "./identifiers.ts";
 * import { equal, match } from "node:assert/strict";
 * equal(isuladNetworkNameProblem("pod-net.1"), undefined);
 * match(isuladNetworkNameProblem("My_Net")!, /iSulad/);
 * ```
 */
export function isuladNetworkNameProblem(name: string): string | undefined {
  if (name.length > MAX_NETWORK_NAME_LENGTH) {
    return `network name is ${name.length} characters long, over the limit of ${MAX_NETWORK_NAME_LENGTH}`;
  }
  const bad = [...name].find((c) => !/[a-z0-9.-]/.test(c));
  if (bad !== undefined) {
    return `network name has the character ${
      JSON.stringify(bad)
    } (allowed by iSulad's rule for a conf dir: a-z, 0-9, '.', '-')`;
  }
  if (/^[.-]/.test(name)) {
    return `network name starts with ${JSON.stringify(name[0])}`;
  }
  if (/[.-]$/.test(name)) {
    return `network name ends with ${JSON.stringify(name[name.length - 1])}`;
  }
  return undefined;
}

/**
 * The interface-name rule: 1–15 bytes, not `.`/`..`, no `/`, `:` or
 * whitespace as Go's `unicode.IsSpace` (libcni's rule) defines it; also no
 * control characters (cnishim's addition: the name becomes a file name and
 * a log field) unless `goRule` asks for libcni's rule alone.
 *
 * @example Usage
 * ```ts
 * import { ifNameProblem } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(ifNameProblem("eth0"), undefined);
 * equal(ifNameProblem("e\u00850")?.rule, "characters"); // U+0085 is space to Go
 * equal(ifNameProblem("e\x010")?.rule, "characters");
 * equal(ifNameProblem("e\x010", { goRule: true }), undefined);
 * ```
 */
export function ifNameProblem(
  name: string,
  options: { readonly goRule?: boolean } = {},
): IdentifierProblem | undefined {
  if (name === "") return { rule: "empty", reason: "interface name is empty" };
  if (ENCODER.encode(name).length > MAX_IFNAME_BYTES) {
    return {
      rule: "length",
      reason: `interface name is longer than ${MAX_IFNAME_BYTES} bytes`,
    };
  }
  if (name === "." || name === "..") {
    return { rule: "dots", reason: "interface name is . or .." };
  }
  if (
    IFNAME_CHARS.test(name) || hasGoSpace(name) ||
    (!options.goRule && hasControlCharacter(name))
  ) {
    return {
      rule: "characters",
      reason: "interface name contains /, :, whitespace or control characters",
    };
  }
  return undefined;
}

/**
 * Whether `text` holds a C0 control character or DEL: none may reach a
 * file name, a log field or `CNI_ARGS`.
 *
 * @example Usage
 * ```ts
 * import { hasControlCharacter } from "./identifiers.ts";
 * import { equal } from "node:assert/strict";
 * equal(hasControlCharacter("a\tb"), true);
 * equal(hasControlCharacter("a b"), false);
 * ```
 */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

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
  const problem = containerIdProblem(id);
  if (problem) {
    throw new IdentifierError(
      problem.rule === "empty"
        ? CNI_ERROR_CODES.unknownContainer
        : CNI_ERROR_CODES.invalidEnvironmentVariables,
      "containerId",
      id,
      problem.reason,
    );
  }
}

/**
 * Validates a network name by the spec's rule.
 *
 * @throws {IdentifierError} code 7
 */
export function validateNetworkName(name: string): void {
  const problem = networkNameProblem(name);
  if (problem) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "networkName",
      name,
      problem.reason,
    );
  }
}

/**
 * Validates a Linux interface name by {@link ifNameProblem}'s rule.
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
  const problem = ifNameProblem(name);
  if (problem) {
    throw new IdentifierError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "ifName",
      name,
      problem.reason,
    );
  }
}

// Whether `text` holds a rune Go's unicode.IsSpace calls whitespace:
// libcni's test for interface names, unlike JavaScript's \s.
function hasGoSpace(text: string): boolean {
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
  if (type.includes("/") || hasControlCharacter(type)) {
    fail("must be a bare executable name (no '/', no control characters)");
  }
}
