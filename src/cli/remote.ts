/**
 * The command line's side of `cnishim serve`: turning a parsed command
 * line into a request (`--socket`) and a request back into a parsed
 * command line (the server). The shim's own settings (bin, conf and cache
 * dirs, timeouts, logging) belong to the server and cannot come with a
 * request: a client that may connect must not choose which binaries run.
 *
 * @module
 */
import {
  checkSocketPath,
  type FlagValue,
  type ServeRequest,
} from "../serve/protocol.ts";
import { sendRequest } from "../serve/client.ts";
import type { ProcessIo } from "../spec/types.ts";
import { flagText } from "./context.ts";
import { FLAGS, type ParsedArgs, splitListValue } from "./flags.ts";
import { KEYS } from "./settings.ts";
import { UsageError } from "../spec/errors.ts";

const SERVER_ONLY = new Set<string>([
  ...KEYS,
  "config",
  "socket",
  "help",
  "no-metrics",
]);

/**
 * Sends `command` (a served one) to the server on `socket` and writes its stdout and
 * stderr to `io`; returns the exit status the CLI would have returned.
 *
 * @throws {UsageError} for a server setting given with `--socket`
 * @throws {CniError} code 11 when no server answers on `socket`
 */
export async function runRemote(
  socket: string,
  command: string,
  args: string[],
  parsed: ParsedArgs,
  io: ProcessIo,
): Promise<number> {
  checkSocketPath(socket);
  const flags: Record<string, FlagValue> = {};
  for (const [name, value] of parsed.flags) {
    if (name === "socket") continue;
    if (SERVER_ONLY.has(name)) throw serverSetting(name);
    flags[name] = value;
  }
  // A file named on the client is read by the client: the server may not
  // see the same file, and refuses to read files on a client's say-so.
  for (const spec of FLAGS) {
    const value = flags[spec.name];
    if (spec.file && typeof value === "string") {
      flags[spec.name] = await flagText(spec.name, value);
    }
  }
  const request: ServeRequest = {
    args,
    flags,
    ...(command === "hook" ? { stdin: await io.readStdin() } : {}),
  };
  const reply = await sendRequest(socket, command, request);
  if (reply.stdout) io.stdout(reply.stdout);
  if (reply.stderr) io.stderr(reply.stderr);
  return reply.exitCode;
}

/**
 * The command line a request stands for: its flags checked against the
 * CLI's table exactly as the parser would check them.
 *
 * @throws {UsageError} for an unknown flag, a server setting, a value
 * of the wrong kind or an `@FILE` value (the client sends the file's text)
 */
export function parsedFromRequest(
  command: string,
  request: ServeRequest,
): ParsedArgs {
  const flags = new Map<string, string | boolean | string[]>();
  for (const [name, value] of Object.entries(request.flags)) {
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) throw new UsageError(`Unknown flag "--${name}"`);
    if (SERVER_ONLY.has(name)) throw serverSetting(name);
    if (spec.kind === "boolean") {
      if (typeof value !== "boolean") {
        throw new UsageError(`Flag "--${name}" takes true or false`);
      }
      flags.set(name, value);
    } else if (spec.kind === "list") {
      const list = typeof value === "string" ? [value] : value;
      if (!Array.isArray(list)) {
        throw new UsageError(`Flag "--${name}" needs a value`);
      }
      flags.set(name, list.flatMap(splitListValue));
    } else {
      if (typeof value !== "string") {
        throw new UsageError(`Flag "--${name}" needs a value`);
      }
      if (spec.file && value.startsWith("@")) {
        throw new UsageError(
          `Flag "--${name}" of a request cannot be "@FILE": the server reads no file a client names (the --socket client sends the file's text)`,
        );
      }
      flags.set(name, value);
    }
  }
  return { flags, positionals: [command, ...request.args] };
}

function serverSetting(name: string): UsageError {
  return new UsageError(
    `Flag "--${name}" is a setting of the server: give it to "cnishim serve", not with --socket`,
  );
}
