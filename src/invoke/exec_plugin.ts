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
  PluginError,
  PluginTimeoutError,
} from "../spec/errors.ts";
import { killPluginTree } from "./plugin_processes.ts";

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
    throw pluginError(
      request,
      CNI_ERROR_CODES.ioFailure,
      `cannot start ${request.pluginPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // A web timer: Deno 2.9's global setTimeout is Node's, whose first use
  // costs ~4 ms of start-up; AbortSignal.timeout costs 0.3 ms and does not
  // keep the process alive.
  let timedOut = false;
  const signal = request.timeoutMs
    ? AbortSignal.timeout(request.timeoutMs)
    : undefined;
  // Removed before this returns: once the plugin is reaped its pid may be
  // reused.
  const onTimeout = () => {
    timedOut = true;
    killPluginTree(child.pid, request.env).catch(() => {});
  };
  signal?.addEventListener("abort", onTimeout, { once: true });
  try {
    const stdinDone = writeStdin(child, request.stdin);
    const [output] = await Promise.all([child.output(), stdinDone]);
    if (timedOut) {
      throw new PluginTimeoutError(request.timeoutMs ?? 0, {
        pluginType: request.pluginType,
        command: request.command,
        stderrTail: tail(output.stderr),
      });
    }
    if (output.success) return output.stdout;
    throw decodeFailure(request, output);
  } finally {
    // A child the plugin left running is not killed (libcni does not
    // either): a plugin may start a helper on purpose.
    signal?.removeEventListener("abort", onTimeout);
  }
}

async function writeStdin(child: Deno.ChildProcess, data: Uint8Array) {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(data);
    await writer.close();
  } catch {
    // A plugin may exit without reading stdin; its exit status tells the rest.
  }
}

function tail(stderr: Uint8Array): string {
  return DECODER.decode(stderr.subarray(-STDERR_TAIL_BYTES)).trim();
}

function exitText(output: Deno.CommandOutput): string {
  return output.signal
    ? `signal: ${output.signal}`
    : `exit status ${output.code}`;
}

// libcni's RawExec.pluginErr: the plugin's own error object wins; otherwise
// stderr or the exit status explain the failure, with code 0 (unknown).
function decodeFailure(
  request: ExecRequest,
  output: Deno.CommandOutput,
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
  let decoded: unknown;
  try {
    decoded = JSON.parse(stdout);
  } catch {
    decoded = undefined;
  }
  if (
    !decoded || typeof decoded !== "object" || Array.isArray(decoded) ||
    !isValidCode((decoded as { code?: unknown }).code)
  ) {
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
