/**
 * `cnishim serve [--socket PATH]`: the warm mode a runtime keeps running.
 * Every request runs the CLI's own command with the server's settings and
 * the conf dir kept warm, so its answer is what `cnishim <command>` would
 * print. SIGTERM/SIGINT stop it gracefully (signals are handled here, at
 * the command line's level, never in the library).
 *
 * @module
 */
import { UsageError } from "../../spec/errors.ts";
import { WarmNetworks } from "../../serve/warm_networks.ts";
import { startServer } from "../../serve/server.ts";
import {
  DEFAULT_SOCKET,
  type ServeReply,
  type ServeRequest,
} from "../../serve/protocol.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";
import type { ProcessIo } from "../../spec/types.ts";
import { parsedFromRequest } from "../remote.ts";
import { COMMANDS, findCommand } from "../command_table.ts";
import { runCommand } from "../run_command.ts";

const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

/** Serves until SIGTERM or SIGINT; exits 0 after a clean stop. */
export async function runServe(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "serve [--socket PATH]");
  const socket = stringFlag(ctx, "socket") ?? DEFAULT_SOCKET;
  if (!socket.startsWith("/")) {
    throw new UsageError(
      `Invalid --socket: "${socket}" is not an absolute path`,
    );
  }
  // Listened for before the socket exists: a runtime may send SIGTERM the
  // moment it can connect, and Deno's default action would exit 143 with
  // the socket left behind.
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopAsked = false;
  const stop = () => {
    stopAsked = true;
    void server?.stop();
  };
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, stop);
  try {
    await using warm = new WarmNetworks(ctx.settings.confDir, {
      logger: ctx.logger,
    });
    await warm.start();
    const runtime = { ...ctx.runtime, networks: () => warm.get() };

    const handle = async (
      operation: string,
      request: ServeRequest,
    ): Promise<ServeReply> => {
      let stdout = "";
      let stderr = "";
      const io: ProcessIo = {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        readStdin: () => Promise.resolve(request.stdin ?? ""),
        env: ctx.io.env,
      };
      // The server runs only served operations: each is in the table.
      const command = findCommand(operation)!;
      const outcome = await runCommand(command, io, () =>
        Promise.resolve({
          ...ctx,
          parsed: parsedFromRequest(operation, request),
          args: request.args,
          io,
          // The server's log is its own, not the client's stderr.
          logIsCallersStderr: false,
          runtime,
        }));
      return { ...outcome, stdout, stderr };
    };

    server = await startServer({
      socket,
      operations: COMMANDS.filter((c) => c.served).map((c) => c.name),
      handle,
      logger: ctx.logger,
    });
    if (stopAsked) void server.stop();
    await server.finished;
  } finally {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, stop);
  }
  return {};
}
