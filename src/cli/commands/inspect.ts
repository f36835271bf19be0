/**
 * The read-mostly commands: `check`, `status`, `gc`, `networks`, `result`.
 *
 * @module
 */
import { validateContainerId } from "../../spec/identifiers.ts";
import { requireConfNetworks } from "../../runtime/conf_networks.ts";
import { getCachedAttachments } from "../../engine/get_cached_result.ts";
import { check } from "../../runtime/check.ts";
import { status } from "../../runtime/status.ts";
import { gc } from "../../runtime/gc.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** `cnishim check <container-id> <netns-path>`. */
export async function runCheck(ctx: CommandContext): Promise<CommandOutput> {
  const [containerId, netns] = expectArgs(
    ctx,
    1,
    2,
    "check <container-id> <netns-path>",
  ) as [string, string?];
  return {
    stdout: { networks: await check(containerId, netns ?? "", ctx.runtime) },
  };
}

/** `cnishim status`: exit 0 only when ready. */
export async function runStatus(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "status");
  const report = await status(ctx.runtime);
  if (!report.ready) {
    for (const r of report.reasons) ctx.io.stderr(`not ready: ${r}\n`);
  }
  return { stdout: report, exitCode: report.ready ? 0 : 1 };
}

/** `cnishim gc [--keep <id>]...`. */
export async function runGc(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "gc [--keep <container-id>]...");
  const keep = (ctx.parsed.flags.get("keep") as string[] | undefined) ?? [];
  return { stdout: await gc(keep, ctx.runtime) };
}

/** `cnishim networks`. */
export async function runNetworks(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "networks");
  const loaded = await requireConfNetworks(ctx.runtime);
  for (const s of loaded.skipped) {
    ctx.io.stderr(`skipped ${s.file}: ${s.reason}\n`);
  }
  return {
    stdout: {
      confDir: ctx.settings.confDir,
      defaultNetwork: loaded.defaultNetwork?.name ?? null,
      networks: loaded.networks.map((n) => ({
        name: n.name,
        file: n.source,
        cniVersion: n.cniVersion,
        plugins: n.plugins.map((p) => p.type),
      })),
      skipped: loaded.skipped,
    },
  };
}

/** `cnishim result <container-id>`. */
export async function runResult(ctx: CommandContext): Promise<CommandOutput> {
  const [containerId] = expectArgs(ctx, 1, 1, "result <container-id>") as [
    string,
  ];
  validateContainerId(containerId);
  const entries = await getCachedAttachments(containerId, ctx.runtime);
  return {
    stdout: {
      containerId,
      networks: entries.map((e) => ({
        name: e.networkName,
        interface: e.ifName,
        netns: e.netns,
        complete: e.result !== undefined,
        result: e.result ?? null,
      })),
    },
  };
}
