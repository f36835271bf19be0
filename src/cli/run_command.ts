/**
 * Runs one command the way the command line does, for `cnishim` itself and
 * for every request `cnishim serve` answers: the output and any failure
 * (rendered by `renderFailure`) are written to the injected I/O.
 *
 * @module
 */
import { CniError, type CniErrorObject } from "../spec/errors.ts";
import { renderFailure } from "../spec/render_failure.ts";
import type { ProcessIo } from "../spec/types.ts";
import type { Command, CommandContext, CommandOutput } from "./context.ts";

/** How a command ended. */
export interface CommandOutcome {
  /** The exit status. */
  exitCode: number;
  /** The error object, when it failed. */
  error?: CniErrorObject;
}

/**
 * Loads and runs `command`; its context comes from `prepare` (which may
 * throw a usage error) unless the command is bare.
 */
export async function runCommand(
  command: Command,
  io: ProcessIo,
  prepare: () => Promise<CommandContext>,
): Promise<CommandOutcome> {
  try {
    if (command.bare) return emit(io, await (await command.load())());
    const run = await command.load();
    const ctx = await prepare();
    try {
      return emit(io, await run(ctx));
    } catch (error) {
      if (error instanceof CniError) {
        const level = ctx.logIsCallersStderr ? "debug" : "error";
        ctx.logger.log(level, `${command.name} failed`, {
          code: error.code,
          error: error.message,
        });
      }
      throw error;
    }
  } catch (error) {
    return fail(io, error);
  }
}

/** Writes a failure as the command line prints it. */
export function fail(io: ProcessIo, error: unknown): CommandOutcome {
  const failure = renderFailure(error);
  if (failure.stdout) io.stdout(failure.stdout);
  io.stderr(failure.stderr);
  return { exitCode: failure.exitCode, error: failure.error };
}

function emit(io: ProcessIo, output: CommandOutput): CommandOutcome {
  if (output.stdout !== undefined) {
    io.stdout(
      typeof output.stdout === "string"
        ? output.stdout
        : JSON.stringify(output.stdout, null, 2) + "\n",
    );
  }
  return { exitCode: output.exitCode ?? 0 };
}
