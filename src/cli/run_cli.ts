/**
 * The command line: argv and injected I/O in, exit status out. The single
 * place where errors become output: a CNI error object on stdout and one
 * line on stderr (exit 1), a usage error on stderr (exit 2), anything else
 * as code 999 with its stack (a bug).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, toCniError } from "../spec/errors.ts";
import { CURRENT_VERSION } from "../spec/version.ts";
import { createLogger } from "../log/logger.ts";
import type { RuntimeOptions } from "../runtime/runtime_options.ts";
import { parseFlags } from "./flags.ts";
import { COMMANDS, FLAGS, renderHelp } from "./help.ts";
import { resolveSettings } from "./settings.ts";
import type { ProcessIo } from "../spec/types.ts";
import type { CommandContext, CommandOutput } from "./context.ts";
import { UsageError } from "./usage_error.ts";
import { VERSION } from "./version.ts";
import { SUPPORTED_VERSIONS } from "../spec/version.ts";

type Runner = (ctx: CommandContext) => Promise<CommandOutput>;

// Each command is imported only when it runs: start-up is paid per pod.
const RUNNERS: Record<string, () => Promise<Runner>> = {
  add: async () => (await import("./commands/add.ts")).runAdd,
  del: async () => (await import("./commands/del.ts")).runDel,
  hook: async () => (await import("./commands/hook.ts")).runHook,
  check: async () => (await import("./commands/inspect.ts")).runCheck,
  status: async () => (await import("./commands/inspect.ts")).runStatus,
  gc: async () => (await import("./commands/inspect.ts")).runGc,
  networks: async () => (await import("./commands/inspect.ts")).runNetworks,
  result: async () => (await import("./commands/inspect.ts")).runResult,
  version: () => Promise.resolve(runVersion),
  // serve runs every other command through runPrepared, passed in here so
  // that serve.ts need not import this file back.
  serve: async () => {
    const { runServe } = await import("./commands/serve.ts");
    return (ctx) => runServe(ctx, runPrepared);
  },
};

/** `cnishim version`. */
function runVersion(): Promise<CommandOutput> {
  return Promise.resolve({
    stdout: { version: VERSION, cniVersions: SUPPORTED_VERSIONS },
  });
}

/** Runs the command line; returns the exit status. */
export async function runCli(
  argv: readonly string[],
  io: ProcessIo,
): Promise<number> {
  try {
    const parsed = parseFlags(argv, FLAGS);
    const [command, ...args] = parsed.positionals;
    if (parsed.flags.get("help") === true || command === "help" || !command) {
      io.stdout(renderHelp());
      return command || parsed.flags.get("help") ? 0 : 2;
    }
    const load = RUNNERS[command];
    if (!load) {
      throw new UsageError(
        `Unknown command "${command}": use one of ${
          COMMANDS.map((c) => c.name).join(", ")
        }`,
      );
    }
    if (command === "version") return emit(io, await runVersion());
    const socket = parsed.flags.get("socket");
    if (typeof socket === "string" && command !== "serve") {
      // The runtime's fast path: nothing of the engine is loaded.
      const { runRemote } = await import("./remote.ts");
      return await runRemote(socket, command, args, parsed, io);
    }
    return await runPrepared(command, io, async () => {
      const settings = await resolveSettings(parsed, io.env);
      const logger = createLogger({
        level: settings.logLevel,
        file: settings.logFile,
      });
      const runtime: RuntimeOptions = {
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
      };
      return { parsed, args, settings, io, logger, runtime };
    });
  } catch (error) {
    return report(io, error);
  }
}

/**
 * Runs one command the way the command line does: the context comes from
 * `prepare` (which may throw a usage error), the output and any error are
 * written to `io`, and the exit status is returned. `cnishim serve` runs
 * each request through here, so that its answers are the CLI's.
 */
export async function runPrepared(
  command: string,
  io: ProcessIo,
  prepare: () => Promise<CommandContext>,
): Promise<number> {
  try {
    const load = RUNNERS[command];
    if (!load) throw new UsageError(`Unknown command "${command}"`);
    const run = await load();
    const ctx = await prepare();
    try {
      return emit(io, await run(ctx));
    } catch (error) {
      if (error instanceof CniError) {
        ctx.logger.error(`${command} failed`, {
          code: error.code,
          error: error.message,
        });
      }
      throw error;
    }
  } catch (error) {
    return report(io, error);
  }
}

function emit(io: ProcessIo, output: CommandOutput): number {
  if (output.stdout !== undefined) {
    io.stdout(
      typeof output.stdout === "string"
        ? output.stdout
        : JSON.stringify(output.stdout, null, 2) + "\n",
    );
  }
  return output.exitCode ?? 0;
}

function report(io: ProcessIo, error: unknown): number {
  if (error instanceof UsageError) {
    io.stderr(`cnishim: ${error.message}\nRun "cnishim --help" for usage.\n`);
    return error.exitCode;
  }
  const e = toCniError(error);
  io.stdout(
    JSON.stringify({ cniVersion: CURRENT_VERSION, ...e.toJSON() }, null, 2) +
      "\n",
  );
  io.stderr(`cnishim: ${e.message} (CNI error code ${e.code})\n`);
  // A plugin's own 999 (skel's generic code) is not a bug of the shim.
  if (
    e.code === CNI_ERROR_CODES.internal && !(error instanceof CniError) &&
    error instanceof Error && error.stack
  ) {
    io.stderr(`${error.stack}\n`);
  }
  return 1;
}
