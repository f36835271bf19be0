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
import { isJsonObject, parseJson, tryParseJson } from "../spec/json.ts";
import {
  CNI_ERROR_CODES,
  type CniErrorObject,
  errorText,
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

/**
 * Most bytes of a unix socket's path: `sun_path` holds 108 with the
 * terminating NUL. A longer one can be bound relative to its dir, but no
 * client can connect to it by its path.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Refuses a socket path no client could connect to.
 *
 * @throws {UsageError} naming `flag` and the limit
 */
export function checkSocketPath(path: string, flag = "--socket"): void {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new UsageError(
      `Invalid ${flag}: "${path}" is ${bytes} bytes, and a unix socket path is at most ${MAX_SOCKET_PATH_BYTES} (sun_path)`,
    );
  }
}

/**
 * Most bytes of a request body. A request is a few KiB; the largest a
 * runtime can legitimately send carries every pod input at its bound
 * (annotations 256 KiB, capability args 512 KiB, CNI_ARGS 64 KiB, JSON-
 * or form-escaped), which fits in 2 MiB.
 */
export const MAX_REQUEST_BYTES: number = 2 * 1024 * 1024;

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
  /** A `cni` request's plugin call (then `args` and `flags` are empty). */
  cni?: CniCall;
}

/**
 * The request kind of the front-end plugin's thick mode,
 * `POST /v1/cni`: one plugin call, its `CNI_*` environment and its stdin
 * as the fields of an `application/x-www-form-urlencoded` body (what
 * `curl --data-urlencode` sends, and what the small C forwarder a runtime
 * execs, `packaging/cni/cnishim_forwarder.c`, writes without a library).
 * The answer is what the plugin prints on stdout,
 * with HTTP 200 for exit 0 and 500 for a CNI error; any other status (503
 * while the server stops, 421 for a call that is not the server's) means
 * the call did not run there and the caller runs it itself.
 */
export const CNI_OPERATION = "cni";

/** The plugin's environment a `cni` request carries: the protocol's. */
export const CNI_ENV_VARIABLES: readonly string[] = [
  "CNI_COMMAND",
  "CNI_CONTAINERID",
  "CNI_NETNS",
  "CNI_IFNAME",
  "CNI_ARGS",
  "CNI_PATH",
];

/** One plugin call of a `cni` request. */
export interface CniCall {
  /** The `CNI_*` variables that were set. */
  env: Record<string, string>;
  /** The plugin's stdin. */
  stdin: string;
}

/** HTTP status of a `cni` request the server did not take as its own. */
export const CNI_MISDIRECTED = 421;

/** The body of a `cni` request. */
export function encodeCniRequest(
  env: Readonly<Record<string, string>>,
  stdin: string,
): string {
  const form = new URLSearchParams();
  for (const name of CNI_ENV_VARIABLES) {
    if (env[name] !== undefined) form.set(name, env[name]);
  }
  form.set("stdin", stdin);
  return form.toString();
}

/**
 * Decodes a `cni` request body.
 *
 * @throws {UsageError} naming a field that is not the protocol's
 */
export function parseCniRequest(text: string): CniCall {
  const form = new URLSearchParams(text);
  const env: Record<string, string> = {};
  let stdin: string | undefined;
  for (const [name, value] of form) {
    if (name === "stdin") stdin = value;
    else if (CNI_ENV_VARIABLES.includes(name)) env[name] = value;
    else {
      throw new UsageError(
        `Unknown field "${name}" in the cni request (use stdin, ${
          CNI_ENV_VARIABLES.join(", ")
        })`,
      );
    }
  }
  if (stdin === undefined) {
    throw new UsageError(`The cni request has no "stdin" field`);
  }
  return { env, stdin };
}

/**
 * Decodes the body of a request for `operation`: the command line's
 * fields, a hook's raw OCI state, or a `cni` request.
 *
 * @throws {UsageError} naming what is wrong
 */
export function parseRequest(operation: string, text: string): ServeRequest {
  if (operation === CNI_OPERATION) {
    return { args: [], flags: {}, cni: parseCniRequest(text) };
  }
  return operation === "hook"
    ? parseHookRequest(text)
    : parseServeRequest(text);
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
  /** The HTTP status, when not the one {@link httpStatus} derives. */
  httpStatus?: number;
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
    throw new UsageError(errorText(error));
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
  const data = tryParseJson(text);
  if (data === undefined) return parseServeRequest(text); // names the decoding error
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
  if (reply.httpStatus !== undefined) return reply.httpStatus;
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
