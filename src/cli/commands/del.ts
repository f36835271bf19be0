/**
 * `cnishim del <container-id> [<netns-path>]`.
 *
 * @module
 */
import { remove } from "../../runtime/remove.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** Tears a pod down from what its setup cached. */
export async function runDel(ctx: CommandContext): Promise<CommandOutput> {
  const [containerId, netns] = expectArgs(
    ctx,
    1,
    2,
    "del <container-id> [<netns-path>]",
  ) as [string, string?];
  return await delPod(ctx, containerId, netns ?? "");
}

/** Shared by `del` and `hook`. */
export async function delPod(
  ctx: CommandContext,
  containerId: string,
  netns: string,
): Promise<CommandOutput> {
  const report = await remove(containerId, netns, ctx.runtime);
  for (const w of report.warnings) ctx.io.stderr(`warning: ${w}\n`);
  ctx.logger.info("pod torn down", {
    containerId,
    removed: report.removed.length,
  });
  return { stdout: report };
}
