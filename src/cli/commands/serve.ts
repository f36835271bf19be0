/**
 * `cnishim serve [--socket PATH] [--no-metrics]`: the warm mode a runtime
 * keeps running. Every request runs the CLI's own command with the
 * server's settings and the conf dir kept warm, so its answer is what
 * `cnishim <command>` would print. Started by systemd's socket activation
 * (`LISTEN_FDS`/`LISTEN_PID`), it serves the passed socket instead of
 * binding `--socket`. SIGTERM/SIGINT stop it gracefully (signals are
 * handled here, at the command line's level, never in the library).
 *
 * @module
 */
import { errorText, UsageError } from "../../spec/errors.ts";
import { WarmNetworks } from "../../serve/warm_networks.ts";
import { startServer } from "../../serve/server.ts";
import { inheritedSocketPath } from "../../serve/listeners.ts";
import { listenFds } from "../../serve/activation.ts";
import { createServeMetrics } from "../../serve/serve_metrics.ts";
import { processExec } from "../../invoke/exec_plugin.ts";
import {
  checkSocketPath,
  CNI_MISDIRECTED,
  CNI_OPERATION,
  type CniCall,
  DEFAULT_SOCKET,
  type ServeReply,
  type ServeRequest,
} from "../../serve/protocol.ts";
import { runPlugin } from "../../plugin/run_plugin.ts";
import { type FrontEndHost, runFrontEnd } from "../cni_plugin.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";
import type { ProcessIo } from "../../spec/types.ts";
import { parsedFromRequest } from "../remote.ts";
import { runCommand } from "../run_command.ts";
import {
  STALE_TEMP_AGE_MS,
  sweepStaleTemps,
} from "../../runtime/temp_sweep.ts";
import { isJsonObject, tryParseJson } from "../../spec/json.ts";

const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

/** Serves until SIGTERM or SIGINT; exits 0 after a clean stop. */
export async function runServe(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "serve [--socket PATH] [--no-metrics]");
  const fds = listenFds(ctx.io.env, Deno.pid);
  if (fds.length > 1) {
    throw new UsageError(
      `Socket activation passed ${fds.length} sockets: cnishim serve listens on one (one ListenStream= in cnishim.socket)`,
    );
  }
  const listenFd = fds[0];
  const socket = listenFd !== undefined
    ? await inheritedSocketPath(listenFd)
    : stringFlag(ctx, "socket") ?? DEFAULT_SOCKET;
  if (listenFd === undefined && !socket.startsWith("/")) {
    throw new UsageError(
      `Invalid --socket: "${socket}" is not an absolute path`,
    );
  }
  if (listenFd === undefined) checkSocketPath(socket);
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
  // A bug that kills the process still takes the socket with it (the
  // event is not cancelled: the process dies as it would have).
  const dying = () => server?.abandon();
  globalThis.addEventListener("error", dying);
  globalThis.addEventListener("unhandledrejection", dying);
  try {
    await using warm = new WarmNetworks(ctx.settings.confDir, {
      logger: ctx.logger,
    });
    await warm.start();
    const metrics = ctx.parsed.flags.get("no-metrics") === true
      ? undefined
      : createServeMetrics({
        inFlight: () => server?.inFlight ?? 0,
        conf: () => warm.stats,
      });
    const runtime = {
      ...ctx.runtime,
      networks: () => warm.get(),
      ...(metrics
        ? { exec: metrics.timedExec(ctx.runtime.exec ?? processExec) }
        : {}),
    };

    const frontEndHost: FrontEndHost = {
      server: {
        settings: ctx.settings,
        runtime,
        socket,
        logger: ctx.logger,
      },
    };
    const handle = async (
      operation: string,
      request: ServeRequest,
    ): Promise<ServeReply> => {
      if (operation === CNI_OPERATION && request.cni) {
        return await serveCniCall(request.cni, socket, ctx, frontEndHost);
      }
      let stdout = "";
      let stderr = "";
      const io: ProcessIo = {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        readStdin: () => Promise.resolve(request.stdin ?? ""),
        env: ctx.io.env,
      };
      // The server runs only served operations: each is in the table.
      const command = ctx.commands.find((c) => c.name === operation)!;
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
      ...(listenFd !== undefined ? { listenFd } : {}),
      operations: [
        ...ctx.commands.filter((c) => c.served).map((c) => c.name),
        CNI_OPERATION,
      ],
      handle,
      logger: ctx.logger,
      ...(metrics
        ? { metrics: () => metrics.render(), observer: metrics.observer }
        : {}),
    });
    sweepAtStartUp(ctx);
    const loaded = await warm.get();
    ctx.logger.notice(
      `listening on ${socket}, ${loaded.networks.length} networks from ${ctx.settings.confDir}`,
    );
    if (stopAsked) void server.stop();
    await server.finished;
  } finally {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, stop);
    globalThis.removeEventListener("error", dying);
    globalThis.removeEventListener("unhandledrejection", dying);
  }
  return {};
}

// The temp files writes that died left behind (a crash, a power loss):
// those old enough that no write in progress can own them, beside serving.
function sweepAtStartUp(ctx: CommandContext): void {
  const { cacheDir } = ctx.settings;
  sweepStaleTemps(cacheDir, STALE_TEMP_AGE_MS).then((swept) => {
    if (swept.length) {
      ctx.logger.notice("removed temp files of interrupted writes", {
        cacheDir,
        files: swept.length,
      });
    }
  }, (error: unknown) => {
    ctx.logger.warn("cannot sweep the cache dir's temp files", {
      cacheDir,
      error: errorText(error),
    });
  });
}

/**
 * One call of the front-end plugin in thick mode: run here exactly as the
 * plugin process would run it (skel's checks, then the front end on the
 * server's settings and warm networks), its stdout the answer. A call
 * whose config names another socket (or none) is not the server's: 421,
 * and the forwarder runs it itself.
 */
async function serveCniCall(
  call: CniCall,
  socket: string,
  ctx: CommandContext,
  host: FrontEndHost,
): Promise<ServeReply> {
  const config = tryParseJson(call.stdin);
  // Undecodable: the plugin's own error answers it.
  const named = config === undefined
    ? socket
    : isJsonObject(config)
    ? config.socket
    : undefined;
  if (named !== socket) {
    return {
      exitCode: 1,
      stdout: "",
      stderr: "",
      httpStatus: CNI_MISDIRECTED,
    };
  }
  let stdout = "";
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.io.env)) {
    if (!k.startsWith("CNI_")) env[k] = v;
  }
  Object.assign(env, call.env);
  const exitCode = await runPlugin({
    stdout: (text) => void (stdout += text),
    stderr: () => {},
    readStdin: () => Promise.resolve(call.stdin),
    env,
  }, {
    frontEndOnly: true,
    frontEnd: () => Promise.resolve((c) => runFrontEnd(c, host)),
  });
  if (exitCode !== 0) {
    ctx.logger.info("cni call failed", {
      command: call.env.CNI_COMMAND,
      containerId: call.env.CNI_CONTAINERID,
      answer: stdout.trim(),
    });
  }
  return {
    exitCode,
    stdout,
    stderr: "",
    httpStatus: exitCode === 0 ? 200 : 500,
  };
}
