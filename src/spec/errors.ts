// Pure: no Deno API.
/**
 * The CNI error family. Every failure the engine, the runtime front end and
 * the plugin mode report is a {@link CniError} carrying one of the spec's
 * well-known codes, so the code travels from the first check to the
 * runtime's stdout (libcni's `types.Error`).
 *
 * @module
 */

/** The spec's well-known error codes (SPEC.md "Error"), plus libcni's 0, 8 and 999. */
export const CNI_ERROR_CODES = {
  unknown: 0,
  incompatibleCniVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironmentVariables: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  invalidNetns: 8,
  tryAgainLater: 11,
  pluginNotAvailable: 50,
  limitedConnectivity: 51,
  internal: 999,
} as const;

/** One of the values of {@link CNI_ERROR_CODES}, or a plugin-specific code (100+). */
export type CniErrorCode = number;

/** Options of {@link CniError}. */
export interface CniErrorOptions extends ErrorOptions {
  /** The spec's `details` field. */
  details?: string | undefined;
}

/** The spec's error object as printed on stdout. */
export interface CniErrorObject {
  /** The CNI version of the caller's config. */
  cniVersion?: string;
  /** Error code (0–99 spec, 100+ implementation specific). */
  code: number;
  /** Short message. */
  msg: string;
  /** Longer explanation. */
  details?: string;
}

/**
 * An error with a CNI error code.
 *
 * @example Usage
 * ```ts
 * import { CniError, CNI_ERROR_CODES } from "./errors.ts";
 * import { deepEqual } from "node:assert/strict";
 * const err = new CniError(CNI_ERROR_CODES.tryAgainLater, "Backend busy");
 * deepEqual(err.toJSON(), { code: 11, msg: "Backend busy" });
 * ```
 */
export class CniError extends Error {
  /** The CNI error code. */
  readonly code: CniErrorCode;
  /** The spec's `details`. */
  readonly details: string | undefined;

  /** Makes an error with a code and a message. */
  constructor(code: CniErrorCode, message: string, options?: CniErrorOptions) {
    super(message, options);
    this.name = "CniError";
    this.code = code;
    this.details = options?.details;
  }

  /** The spec's error object (`code`, `msg`, `details`). */
  toJSON(): CniErrorObject {
    const obj: CniErrorObject = { code: this.code, msg: this.message };
    if (this.details) obj.details = this.details;
    return obj;
  }
}

/** Where a config error was found. */
export interface ConfigErrorOptions extends CniErrorOptions {
  /** The file the config came from. */
  file?: string;
  /** 1-based line of the problem, when known. */
  line?: number;
  /** 1-based column of the problem, when known. */
  column?: number;
  /** The config field at fault, e.g. `plugins[1].type`. */
  field?: string;
}

/**
 * A network configuration that cannot be decoded (code 6) or is invalid
 * (code 7). The message names the file, the position and the field.
 */
export class ConfigError extends CniError {
  /** The file, when the config came from one. */
  readonly file: string | undefined;
  /** 1-based line. */
  readonly line: number | undefined;
  /** 1-based column. */
  readonly column: number | undefined;
  /** The offending field. */
  readonly field: string | undefined;

  /** Makes a config error; the location is prefixed to the message. */
  constructor(
    code: CniErrorCode,
    message: string,
    options?: ConfigErrorOptions,
  ) {
    const where = [
      options?.file,
      options?.line !== undefined ? String(options.line) : undefined,
      options?.column !== undefined ? String(options.column) : undefined,
    ].filter((p) => p !== undefined).join(":");
    const field = options?.field ? ` (field "${options.field}")` : "";
    super(code, `${where ? `${where}: ` : ""}${message}${field}`, options);
    this.name = "ConfigError";
    this.file = options?.file;
    this.line = options?.line;
    this.column = options?.column;
    this.field = options?.field;
  }
}

/** A container ID, interface name, network name or other identifier that failed validation. */
export class IdentifierError extends CniError {
  /** Which identifier: `containerId`, `ifName`, `networkName`, `pluginType`, … */
  readonly field: string;
  /** The rejected value. */
  readonly value: string;

  /** Makes an identifier error; `reason` says which rule failed. */
  constructor(
    code: CniErrorCode,
    field: string,
    value: string,
    reason: string,
  ) {
    super(code, `Invalid ${field} ${JSON.stringify(value)}: ${reason}`, {
      details: value,
    });
    this.name = "IdentifierError";
    this.field = field;
    this.value = value;
  }
}

/** The CNI verbs sent in `CNI_COMMAND`. */
export type CniCommand = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS" | "VERSION";

/** What is known about a failed plugin call. */
export interface PluginErrorOptions extends CniErrorOptions {
  /** The plugin's `type`. */
  pluginType: string;
  /** The verb that failed. */
  command: CniCommand;
  /** The last part of the plugin's stderr. */
  stderrTail?: string | undefined;
}

/** A plugin that failed: its own error object, a bad exit, or undecodable output. */
export class PluginError extends CniError {
  /** The plugin's `type`. */
  readonly pluginType: string;
  /** The verb that failed. */
  readonly command: CniCommand;
  /** The last part of the plugin's stderr, if it wrote any. */
  readonly stderrTail: string | undefined;

  /** Makes a plugin error keeping the plugin's code. */
  constructor(
    code: CniErrorCode,
    message: string,
    options: PluginErrorOptions,
  ) {
    super(code, message, options);
    this.name = "PluginError";
    this.pluginType = options.pluginType;
    this.command = options.command;
    this.stderrTail = options.stderrTail;
  }
}

/** A plugin killed because it ran past its timeout. */
export class PluginTimeoutError extends PluginError {
  /** The timeout that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /** Makes a timeout error (code 11: the runtime may try again later). */
  constructor(timeoutMs: number, options: PluginErrorOptions) {
    super(
      CNI_ERROR_CODES.tryAgainLater,
      `Plugin "${options.pluginType}" (${options.command}) was killed after the timeout of ${timeoutMs} ms`,
      options,
    );
    this.name = "PluginTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Several failures of one operation (a rollback, a teardown, a GC), keeping
 * the first failure's code and message in front.
 */
export class AggregateCniError extends CniError {
  /** Every failure, first one first. */
  readonly errors: readonly CniError[];

  /** Makes an aggregate from at least one error. */
  constructor(
    message: string,
    errors: readonly CniError[],
    options?: CniErrorOptions,
  ) {
    const first = errors[0];
    const rest = errors.map((e) => e.message).join("; ");
    super(first?.code ?? CNI_ERROR_CODES.unknown, `${message}: ${rest}`, {
      ...options,
      details: options?.details ?? first?.details,
      cause: options?.cause ?? first,
    });
    this.name = "AggregateCniError";
    this.errors = errors;
  }
}

/** Where a DEL of a plugin list stopped. */
export interface DelStoppedErrorOptions extends CniErrorOptions {
  /** The network whose list was being deleted. */
  network: string;
  /** The `type` of the plugin whose DEL failed. */
  failedPlugin: string;
  /** The plugins that did not get their DEL, in the order they would have. */
  notDeleted: readonly string[];
}

/**
 * A DEL that stopped at the first failing plugin, as the spec requires
 * ("must stop"): the plugins before it in the list did not get their DEL, so
 * what they hold (an IPAM lease, say) stays consistent with what the failed
 * plugin still holds (portmap's DNAT rules pointing at that address). The
 * code and details are the failing plugin's.
 *
 * @example Usage
 * ```ts
 * import { CniError, DelStoppedError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const err = new DelStoppedError(new CniError(11, "Iptables locked"), {
 *   network: "mynet", failedPlugin: "portmap", notDeleted: ["bridge"],
 * });
 * equal(err.code, 11);
 * equal(err.notDeleted[0], "bridge");
 * ```
 */
export class DelStoppedError extends CniError {
  /** The network whose list was being deleted. */
  readonly network: string;
  /** The `type` of the plugin whose DEL failed. */
  readonly failedPlugin: string;
  /** The plugins that did not get their DEL, in the order they would have. */
  readonly notDeleted: readonly string[];

  /** Wraps the failing plugin's error `cause`. */
  constructor(cause: CniError, options: DelStoppedErrorOptions) {
    const rest = options.notDeleted.length
      ? `, so ${
        options.notDeleted.map((t) => `"${t}"`).join(", ")
      } did not get their DEL`
      : "";
    super(
      cause.code,
      `DEL of network "${options.network}" stopped at plugin "${options.failedPlugin}"${rest}: ${cause.message}`,
      { details: options.details ?? cause.details, cause },
    );
    this.name = "DelStoppedError";
    this.network = options.network;
    this.failedPlugin = options.failedPlugin;
    this.notDeleted = options.notDeleted;
  }
}

/**
 * A mistake in how the shim was called: a command-line argument, or a
 * request to `cnishim serve` (the same command line over a socket). Not a
 * CNI error: exit status 2, and the message names the flag or argument.
 */
export class UsageError extends Error {
  /** The exit status. */
  readonly exitCode = 2;

  /** Makes a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

// Deno's I/O error classes, by name so that this file stays free of Deno APIs.
const IO_ERROR_NAMES = new Set([
  "PermissionDenied",
  "NotFound",
  "AlreadyExists",
  "IsADirectory",
  "NotADirectory",
  "ReadOnlyFileSystem",
  "FilesystemLoop",
]);

/** Turns anything thrown into a {@link CniError} (code 999 for bugs, like skel). */
export function toCniError(error: unknown): CniError {
  if (error instanceof CniError) return error;
  if (error instanceof Error && IO_ERROR_NAMES.has(error.name)) {
    return new CniError(CNI_ERROR_CODES.ioFailure, error.message, {
      cause: error,
    });
  }
  return new CniError(CNI_ERROR_CODES.internal, errorText(error), {
    cause: error,
  });
}

/**
 * The message of anything thrown: an `Error`'s message, anything else as
 * text. The one way a catch block words what it caught.
 *
 * @example Usage
 * ```ts
 * import { errorText } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * equal(errorText(new Error("boom")), "boom");
 * equal(errorText("plain"), "plain");
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
