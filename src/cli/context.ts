/**
 * What a sub-command gets: its arguments, the resolved settings, the
 * injected I/O, and the runtime options built from the settings; and what
 * a sub-command is, as the command table lists it.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { ProcessIo } from "../spec/types.ts";
import type { RuntimeOptions } from "../runtime/runtime_options.ts";
import type { ParsedArgs } from "./flags.ts";
import type { Settings } from "./settings.ts";
import {
  CNI_ERROR_CODES,
  CniError,
  errorText,
  UsageError,
} from "../spec/errors.ts";

/** Everything a command needs. */
export interface CommandContext {
  /** Parsed flags. */
  parsed: ParsedArgs;
  /** Positional arguments after the command name. */
  args: string[];
  /** Resolved settings. */
  settings: Settings;
  /** I/O. */
  io: ProcessIo;
  /** The logger. */
  logger: Logger;
  /**
   * True when the log is the stderr the caller reads (the command line
   * without `--log-file`): a failure, already one line there, is logged
   * only at debug, not twice.
   */
  logIsCallersStderr: boolean;
  /** Runtime options derived from the settings. */
  runtime: RuntimeOptions;
  /**
   * Every sub-command (the command table): `serve` runs the served ones
   * through it, so no command imports the table that loads it.
   */
  commands: readonly Command[];
}

/** What a command printed and its exit status. */
export interface CommandOutput {
  /** Written to stdout as JSON (strings as they are). */
  stdout?: unknown;
  /** The exit status. @default {0} */
  exitCode?: number;
}

/** What help and dispatch know of a sub-command. */
interface CommandInfo {
  /** What operators type. */
  name: string;
  /** Positional arguments, as help shows them. */
  args: string;
  /** One line. */
  summary: string;
  /** Whether `cnishim serve` runs it for a client (`--socket`). */
  served: boolean;
}

/** One sub-command. */
export type Command =
  & CommandInfo
  & (
    | {
      /** Runs with the shim's settings. */
      bare?: false;
      /** Imports the command's module. */
      load(): Promise<(ctx: CommandContext) => Promise<CommandOutput>>;
    }
    | {
      /** Runs without the shim's settings: a broken config cannot stop it. */
      bare: true;
      /** Imports the command's module. */
      load(): Promise<() => Promise<CommandOutput>>;
    }
  );

/** A string flag, or `undefined`. */
export function stringFlag(
  ctx: CommandContext,
  name: string,
): string | undefined {
  const v = ctx.parsed.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** Requires exactly `min`..`max` positional arguments, named in `usage`. */
export function expectArgs(
  ctx: CommandContext,
  min: number,
  max: number,
  usage: string,
): string[] {
  if (ctx.args.length < min || ctx.args.length > max) {
    throw new UsageError(`Wrong number of arguments: usage: cnishim ${usage}`);
  }
  return ctx.args;
}

/**
 * A flag's text: its value, or the file's content when the value is
 * `@file`. Read by whoever parses the command line (the `--socket` client
 * too: a server must not read files on a client's say-so).
 *
 * @throws {CniError} code 5 when the file cannot be read
 */
export async function flagText(flag: string, value: string): Promise<string> {
  if (!value.startsWith("@")) return value;
  const path = value.slice(1);
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot read --${flag} file "${path}": ${errorText(error)}`,
    );
  }
}
