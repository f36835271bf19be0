/**
 * Running one plugin process: config on stdin, result or error object on
 * stdout, a timeout that kills the plugin with everything working for it, and
 * libcni's rules for turning a failure into a coded error.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  type CniCommand,
  errorText,
  PluginError,
  PluginTimeoutError,
} from "../spec/errors.ts";
import { killPluginTree } from "./plugin_processes.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";

/** One plugin call. */
export interface ExecRequest {
  /** Absolute path of the binary (from `findPlugin`). */
  pluginPath: string;
  /** The plugin's `type`, for messages. */
  pluginType: string;
  /** The verb, for messages (the env carries `CNI_COMMAND`). */
  command: CniCommand;
  /** The complete environment. */
  env: Record<string, string>;
  /** The request config. */
  stdin: Uint8Array;
  /** Kill the plugin after this many milliseconds; none when 0 or absent. */
  timeoutMs?: number;
}

/** Runs plugins; tests and embedders may pass their own. */
export interface PluginExec {
  /**
   * Runs the plugin and returns its stdout when it exits 0.
   *
   * @throws {PluginError} when it fails, times out or cannot start
   */
  execPlugin(request: ExecRequest): Promise<Uint8Array>;
}

const DECODER = new TextDecoder();
const ENCODER = new TextEncoder();
const STDERR_TAIL_BYTES = 2048;
// ETXTBSY: the binary is being replaced; libcni retries 6 times, 1 s apart.
const BUSY_ATTEMPTS = 6;
const BUSY_DELAY_MS = 1000;

/** The default {@link PluginExec}: real processes through `Deno.Command`, never a shell. */
export const processExec: PluginExec = { execPlugin };

async function execPlugin(request: ExecRequest): Promise<Uint8Array> {
  for (let attempt = 1;; attempt++) {
    try {
      return await execOnce(request);
    } catch (error) {
      const busy = (error as { code?: string }).code === "ETXTBSY";
      if (!busy) throw error;
      if (attempt >= BUSY_ATTEMPTS) {
        throw pluginError(
          request,
          CNI_ERROR_CODES.tryAgainLater,
          `the binary stayed busy (ETXTBSY) over ${BUSY_ATTEMPTS} attempts`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, BUSY_DELAY_MS));
    }
  }
}

async function execOnce(request: ExecRequest): Promise<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(request.pluginPath, {
      env: request.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Not detached: that would fork rather than posix_spawn, 1-3 ms per
      // plugin in a large process. A timeout finds the plugin's children
      // through /proc instead (plugin_processes.ts).
    }).spawn();
  } catch (error) {
    if ((error as { code?: string }).code === "ETXTBSY") throw error;
    if ((error as { code?: string }).code === "E2BIG") throw tooBig(request);
    throw pluginError(
      request,
      CNI_ERROR_CODES.ioFailure,
      `cannot start ${request.pluginPath}: ${errorText(error)}`,
      { cause: error },
    );
  }
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  const stdin = feed(child.stdin, request.stdin);
  // Done with the pipes however this ends: a reader left pending on a pipe
  // that a plugin's detached child holds open would keep its resource, and
  // a serve process alive, for that child's lifetime.
  const release = () =>
    Promise.all([stdout.cancel(), stderr.cancel(), stdin.abort()]);
  try {
    // A web timer: Deno 2.9's global setTimeout is Node's, whose first use
    // costs ~4 ms of start-up; AbortSignal.timeout costs 0.3 ms and does
    // not keep the process alive.
    const expired = request.timeoutMs
      ? aborted(AbortSignal.timeout(request.timeoutMs))
      : new Promise<never>(() => {});
    const status = await Promise.race([child.status, expired]);
    if (!status) {
      // Killed only while it is known to run: once the plugin is reaped
      // its pid may be reused.
      await killPluginTree(child.pid, request.env).catch(() => {});
      // A child the kill could not find (one that emptied its environment
      // and left the plugin's tree) may hold the pipes open for as long as
      // it lives: they are read for a short grace, not until EOF.
      const gone = await within(
        KILL_GRACE_MS,
        Promise.all([child.status, stdout.eof, stderr.eof]),
      );
      // A plugin unkillable (in D state, say) keeps no cnishim alive.
      if (!gone) child.unref();
      throw new PluginTimeoutError(request.timeoutMs ?? 0, {
        pluginType: request.pluginType,
        command: request.command,
        stderrTail: tail(stderr.bytes()),
      });
    }
    // The plugin has exited, and what it wrote is in the pipes: EOF is
    // waited for a bounded time only, since a helper it left running may
    // hold its stdout. That helper is not killed (libcni does not either:
    // a plugin may start one on purpose), and what it would write later
    // is no part of the plugin's answer.
    if (!stdout.ended || !stderr.ended) {
      await within(EOF_AFTER_EXIT_MS, Promise.all([stdout.eof, stderr.eof]));
    }
    const output: Output = {
      success: status.success,
      code: status.code,
      signal: status.signal,
      stdout: stdout.bytes(),
      stderr: stderr.bytes(),
    };
    if (output.success) return output.stdout;
    throw decodeFailure(request, output);
  } finally {
    await release();
  }
}

// How long the pipes are read after the timeout's kill, and after the
// plugin exited, before cnishim stops waiting for their EOF.
const KILL_GRACE_MS = 1000;
const EOF_AFTER_EXIT_MS = 1000;

interface Drained {
  /** Settles at EOF (or a read error). */
  eof: Promise<void>;
  /** Whether {@link eof} has been reached. */
  readonly ended: boolean;
  /** Everything read so far. */
  bytes(): Uint8Array;
  /** Stops reading and closes the pipe. */
  cancel(): Promise<void>;
}

// Reads a pipe to the end in the background, keeping what it read.
function drain(stream: ReadableStream<Uint8Array>): Drained {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let done = false;
  const eof = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        chunks.push(value);
      }
    } catch {
      // A broken pipe ends the output as EOF does.
    } finally {
      done = true;
    }
  })();
  return {
    eof,
    get ended() {
      return done;
    },
    bytes: () => concat(chunks),
    cancel: async () => {
      if (!done) await reader.cancel().catch(() => {});
      await eof;
      reader.releaseLock();
    },
  };
}

// Writes the config to the plugin's stdin and closes it.
function feed(stream: WritableStream<Uint8Array>, data: Uint8Array) {
  const writer = stream.getWriter();
  let done = false;
  const written = (async () => {
    try {
      await writer.write(data);
      await writer.close();
    } catch {
      // A plugin may exit without reading stdin; its exit status tells the
      // rest.
    } finally {
      done = true;
    }
  })();
  return {
    // A plugin that exited unread leaves a large config blocked in the
    // pipe when a child of it holds the read end.
    abort: async () => {
      if (!done) await writer.abort().catch(() => {});
      await written;
    },
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// Settles (to undefined) when the signal fires.
function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(undefined), { once: true })
  );
}

// Whether `promise` settled within `ms`.
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(() => true, () => true);
  return await Promise.race([
    settled,
    aborted(AbortSignal.timeout(ms)).then(() => false),
  ]);
}

// Replaying cached args this big fails every DEL the same way: the message
// says how to get out (a setup bounds them, one cached before may not be).
function tooBig(request: ExecRequest): PluginError {
  const size = (name: string) => ENCODER.encode(request.env[name] ?? "").length;
  const id = request.env.CNI_CONTAINERID;
  return pluginError(
    request,
    CNI_ERROR_CODES.invalidEnvironmentVariables,
    `cannot start ${request.pluginPath}: its environment is over the system's exec limit (E2BIG; CNI_ARGS is ${
      size("CNI_ARGS")
    } bytes)${
      id && request.command !== "ADD"
        ? `; cached args this big can never be replayed: \`cnishim gc --force-drop ${id}\` drops the container's cache entries, naming what may leak`
        : ""
    }`,
  );
}

function tail(stderr: Uint8Array): string {
  return DECODER.decode(stderr.subarray(-STDERR_TAIL_BYTES)).trim();
}

// A plugin's exit status and what it wrote.
interface Output extends Deno.CommandStatus {
  stdout: Uint8Array;
  stderr: Uint8Array;
}

function exitText(output: Output): string {
  return output.signal
    ? `signal: ${output.signal}`
    : `exit status ${output.code}`;
}

// libcni's RawExec.pluginErr: the plugin's own error object wins; otherwise
// stderr or the exit status explain the failure, with code 0 (unknown).
function decodeFailure(
  request: ExecRequest,
  output: Output,
): PluginError {
  const stdout = DECODER.decode(output.stdout).trim();
  const stderrTail = tail(output.stderr);
  if (stdout === "") {
    return pluginError(
      request,
      CNI_ERROR_CODES.unknown,
      stderrTail
        ? `${JSON.stringify(stderrTail)}: ${exitText(output)}`
        : `no error message: ${exitText(output)}`,
      { stderrTail },
    );
  }
  const decoded = tryParseJson(stdout);
  if (!isJsonObject(decoded) || !isValidCode(decoded.code)) {
    return pluginError(
      request,
      CNI_ERROR_CODES.unknown,
      `cannot parse its error message ${
        JSON.stringify(stdout.slice(0, 512))
      }: ${exitText(output)}`,
      { stderrTail },
    );
  }
  const obj = decoded as { code?: number; msg?: unknown; details?: unknown };
  const msg = typeof obj.msg === "string" ? obj.msg : "";
  const details = typeof obj.details === "string" ? obj.details : undefined;
  return pluginError(request, obj.code ?? CNI_ERROR_CODES.unknown, msg, {
    stderrTail,
    ...(details ? { details } : {}),
  });
}

function isValidCode(code: unknown): boolean {
  return code === undefined ||
    (typeof code === "number" && Number.isInteger(code) && code >= 0);
}

function pluginError(
  request: ExecRequest,
  code: number,
  message: string,
  options: { stderrTail?: string; details?: string; cause?: unknown } = {},
): PluginError {
  return new PluginError(
    code,
    `Plugin "${request.pluginType}" failed (${request.command}): ${message}`,
    { pluginType: request.pluginType, command: request.command, ...options },
  );
}
