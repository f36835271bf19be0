// Pure: no Deno API.
/**
 * The wire format of `cnishim serve`, shared by the server and the
 * `--socket` client: one HTTP request per operation, `POST /v1/<operation>`
 * with the CLI's arguments and flags as a JSON body; the response body is
 * exactly what the CLI prints on stdout (the command's JSON or a CNI error
 * object; for a usage error, HTTP 400, the error object the CLI prints
 * nothing for), the exit status the CLI would have and its stderr ride in
 * headers, so the client reproduces the CLI byte for byte.
 *
 * @module
 */
import { isJsonObject, parseJson } from "../spec/json.ts";
import {
  CNI_ERROR_CODES,
  type CniErrorObject,
  UsageError,
} from "../spec/errors.ts";

/** The path prefix of every operation. */
export const API_PREFIX = "/v1/";
/** Header carrying the CLI's exit status. */
export const EXIT_CODE_HEADER = "cnishim-exit-code";
/** Header carrying the CLI's stderr, percent-encoded (absent when empty). */
export const STDERR_HEADER = "cnishim-stderr";
/** Where `cnishim serve` listens unless `--socket` says otherwise. */
export const DEFAULT_SOCKET = "/run/cnishim/cnishim.sock";

/** A flag value as the CLI's parser produces it. */
export type FlagValue = string | boolean | string[];

/** The body of one request: the command line after the command name. */
export interface ServeRequest {
  /** Positional arguments after the operation. */
  args: string[];
  /** Flags by long name, without `--`. */
  flags: Record<string, FlagValue>;
  /** What the command reads on stdin (`hook`'s OCI state). */
  stdin?: string;
}

/** What the CLI would have printed and returned. */
export interface ServeReply {
  /** The exit status. */
  exitCode: number;
  /** Everything for stdout (the response body). */
  stdout: string;
  /** Everything for stderr. */
  stderr: string;
  /** The error object, when the operation failed. */
  error?: CniErrorObject;
}

/**
 * Decodes a request body; an empty body is an operation without arguments.
 *
 * @throws {UsageError} naming the field that is wrong
 */
export function parseServeRequest(text: string): ServeRequest {
  if (!text.trim()) return { args: [], flags: {} };
  let data: unknown;
  try {
    data = parseJson(text, "Cannot decode the request body");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!isJsonObject(data)) {
    throw new UsageError("The request body must be a JSON object");
  }
  for (const key of Object.keys(data)) {
    if (key !== "args" && key !== "flags" && key !== "stdin") {
      throw new UsageError(
        `Unknown field "${key}" in the request body (use args, flags, stdin)`,
      );
    }
  }
  const args = data.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new UsageError(`"args" must be a list of strings`);
  }
  const flags = data.flags ?? {};
  if (!isJsonObject(flags)) {
    throw new UsageError(`"flags" must be an object`);
  }
  const out: Record<string, FlagValue> = {};
  for (const [name, value] of Object.entries(flags)) {
    const ok = typeof value === "string" || typeof value === "boolean" ||
      (Array.isArray(value) && value.every((v) => typeof v === "string"));
    if (!ok) {
      throw new UsageError(
        `"flags.${name}" must be a string, a boolean or a list of strings`,
      );
    }
    Object.defineProperty(out, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (data.stdin !== undefined && typeof data.stdin !== "string") {
    throw new UsageError(`"stdin" must be a string`);
  }
  return {
    args: args as string[],
    flags: out,
    ...(data.stdin !== undefined ? { stdin: data.stdin as string } : {}),
  };
}

/**
 * Decodes the body of `POST /v1/hook`, which is either a request like any
 * other's or the raw OCI state itself: a JSON object with none of the
 * request's fields (`args`, `flags`, `stdin`). The raw state is what a
 * runtime writes on a hook's stdin, so a hook program can be
 * `curl --unix-socket … --fail-with-body --data-binary @- http://cnishim/v1/hook`,
 * with no Deno process started per call; it becomes the hook's stdin and
 * is checked as the CLI checks it.
 *
 * @throws {UsageError} as {@link parseServeRequest}
 */
export function parseHookRequest(text: string): ServeRequest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return parseServeRequest(text); // names the decoding error
  }
  const raw = isJsonObject(data) &&
    !["args", "flags", "stdin"].some((key) => Object.hasOwn(data, key));
  return raw ? { args: [], flags: {}, stdin: text } : parseServeRequest(text);
}

/**
 * The HTTP status of a reply: 200 for exit 0, 400 for a usage error, 503
 * for "try again later" (code 11, as when the server is stopping) and for
 * a failure without an error (`status`: not ready), 500 for any other CNI
 * error.
 */
export function httpStatus(reply: ServeReply): number {
  if (reply.exitCode === 0) return 200;
  if (reply.exitCode === 2) return 400;
  if (!reply.error) return 503;
  return reply.error.code === CNI_ERROR_CODES.tryAgainLater ? 503 : 500;
}

/**
 * The response body: the CLI's stdout, except for a usage error, where the
 * CLI prints nothing on stdout and the body is the error object (the
 * `--socket` client does not print it).
 */
export function responseBody(reply: ServeReply): string {
  return reply.exitCode === 2 && reply.error
    ? JSON.stringify(reply.error, null, 2) + "\n"
    : reply.stdout;
}

/** Percent-encodes stderr for its header (header values are one line). */
export function encodeStderr(text: string): string {
  return encodeURIComponent(text);
}

/** The inverse of {@link encodeStderr}; undecodable text is kept as is. */
export function decodeStderr(value: string | null | undefined): string {
  if (!value) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
