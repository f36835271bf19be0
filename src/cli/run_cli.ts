/**
 * The command line: argv and injected I/O in, exit status out. The command
 * comes from the table in `command_table.ts` and runs through
 * `runCommand`, here and in `cnishim serve` alike.
 *
 * @module
 */
import { errorText, UsageError } from "../spec/errors.ts";
import type { ProcessIo } from "../spec/types.ts";
import { createLogger } from "../log/logger.ts";
import { FLAGS, type ParsedArgs, parseFlags } from "./flags.ts";
import { renderHelp } from "./help.ts";
import { effectiveDefaults, resolveSettings } from "./settings.ts";
import type { CommandContext } from "./context.ts";
import { COMMANDS, findCommand } from "./command_table.ts";
import { fail, runCommand } from "./run_command.ts";

/** Runs the command line; returns the exit status. */
export async function runCli(
  argv: readonly string[],
  io: ProcessIo,
): Promise<number> {
  try {
    const parsed = parseFlags(argv, FLAGS);
    const version = parsed.flags.get("version") === true;
    const [name = version ? "version" : undefined, ...args] =
      parsed.positionals;
    if (parsed.flags.get("help") === true || name === "help" || !name) {
      io.stdout(await helpText(parsed, io));
      return name || parsed.flags.get("help") ? 0 : 2;
    }
    if (version && name !== "version") {
      throw new UsageError(
        `Flag "--version" is the version command: give it without "${name}"`,
      );
    }
    const command = findCommand(name);
    if (!command) {
      throw new UsageError(
        `Unknown command "${name}": use one of ${
          COMMANDS.map((c) => c.name).join(", ")
        }`,
      );
    }
    const socket = parsed.flags.get("socket");
    // `serve` listens on --socket; `version` is answered here.
    if (typeof socket === "string" && command.served) {
      // The runtime's fast path: nothing of the engine is loaded.
      const { runRemote } = await import("./remote.ts");
      return await runRemote(socket, name, args, parsed, io);
    }
    const outcome = await runCommand(
      command,
      io,
      () => prepare(parsed, args, io),
    );
    return outcome.exitCode;
  } catch (error) {
    return fail(io, error).exitCode;
  }
}

// Help shows the defaults in effect here; a config file that cannot be
// read does not hide the help, it is named under the flags.
async function helpText(parsed: ParsedArgs, io: ProcessIo): Promise<string> {
  try {
    return renderHelp(await effectiveDefaults(parsed, io.env));
  } catch (error) {
    return renderHelp({}, `Config file not used: ${errorText(error)}`);
  }
}

async function prepare(
  parsed: ParsedArgs,
  args: string[],
  io: ProcessIo,
): Promise<CommandContext> {
  const settings = await resolveSettings(parsed, io.env);
  const logger = createLogger({
    level: settings.logLevel,
    file: settings.logFile,
    format: settings.logFormat,
  });
  return {
    parsed,
    args,
    settings,
    io,
    logger,
    logIsCallersStderr: settings.logFile === undefined,
    runtime: {
      binDirs: settings.binDirs,
      cacheDir: settings.cacheDir,
      confDir: settings.confDir,
      networkPlugin: settings.networkPlugin,
      loopback: settings.loopback,
      serial: settings.serial,
      timeoutMs: settings.timeoutMs,
      delTimeoutMs: settings.delTimeoutMs,
      env: settings.pluginEnv,
      logger,
    },
    commands: COMMANDS,
  };
}
