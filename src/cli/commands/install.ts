/**
 * `cnishim install` and `cnishim uninstall`: a DaemonSet's containers put
 * cnishim on a node (the node's dirs mounted under `/host`), keep its
 * conflist true, and take it away.
 *
 * @module
 */
import { UsageError } from "../../spec/errors.ts";
import {
  checkInstalled,
  install,
  type InstallOptions,
  keepConflistTrue,
  uninstall,
} from "../../install/install.ts";
import { DEFAULT_PAYLOAD_DIR } from "../../install/payload.ts";
import { DEFAULT_SOCKET } from "../../serve/protocol.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";
import { duration } from "../settings.ts";

const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

function absolute(ctx: CommandContext, flag: string, fallback: string) {
  const v = stringFlag(ctx, flag) ?? fallback;
  if (!v.startsWith("/")) {
    throw new UsageError(`Invalid --${flag}: "${v}" is not an absolute path`);
  }
  return v.replace(/(.)\/+$/, "$1");
}

function options(ctx: CommandContext, signal?: AbortSignal): InstallOptions {
  const thick = ctx.parsed.flags.get("thick") === true;
  const cache = stringFlag(ctx, "node-cache-dir");
  return {
    payloadDir: absolute(ctx, "payload-dir", DEFAULT_PAYLOAD_DIR),
    hostBinDir: absolute(ctx, "host-bin-dir", "/host/opt/cni/bin"),
    hostConfDir: absolute(ctx, "host-conf-dir", "/host/etc/cni/net.d"),
    nodeConfDir: absolute(ctx, "node-conf-dir", "/etc/cni/net.d"),
    ...(cache ? { nodeCacheDir: absolute(ctx, "node-cache-dir", cache) } : {}),
    ...(thick ? { socket: absolute(ctx, "socket", DEFAULT_SOCKET) } : {}),
    waitPrimaryMs: duration(
      stringFlag(ctx, "wait-primary") ?? "10m",
      "--wait-primary",
    ),
    logger: ctx.logger,
    ...(signal ? { signal } : {}),
  };
}

/**
 * Installs; with `--once` exits, else keeps the conflist true until
 * SIGTERM. `--check` installs nothing: exit 0 only when all is in place
 * (the readiness probe).
 */
export async function runInstall(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "install [--once | --check] [--thick] [flags]");
  if (ctx.parsed.flags.get("check") === true) {
    const problems = await checkInstalled(options(ctx));
    for (const p of problems) ctx.io.stderr(`not installed: ${p}\n`);
    return {
      stdout: { installed: problems.length === 0, problems },
      exitCode: problems.length ? 1 : 0,
    };
  }
  const stop = new AbortController();
  const abort = () => stop.abort();
  // Listened for during the wait too: a pod deleted while it waits ends 0.
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, abort);
  try {
    const opts = options(ctx, stop.signal);
    const report = await install(opts);
    ctx.io.stdout(JSON.stringify(report, null, 2) + "\n");
    if (ctx.parsed.flags.get("once") !== true) await keepConflistTrue(opts);
    return {};
  } finally {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, abort);
  }
}

/** Removes what install wrote (the conflist first) and nothing else. */
export async function runUninstall(
  ctx: CommandContext,
): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "uninstall [flags]");
  return {
    stdout: await uninstall({
      hostBinDir: absolute(ctx, "host-bin-dir", "/host/opt/cni/bin"),
      hostConfDir: absolute(ctx, "host-conf-dir", "/host/etc/cni/net.d"),
      logger: ctx.logger,
    }),
  };
}
