/**
 * `cnishim gc [--keep <id>]...`: destructive, it tears down every cached
 * container not kept.
 *
 * @module
 */
import { gc } from "../../runtime/gc.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** Tears down the containers not kept, then sends GC to 1.1.0 networks. */
export async function runGc(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "gc [--keep <container-id>]...");
  const keep = (ctx.parsed.flags.get("keep") as string[] | undefined) ?? [];
  return { stdout: await gc(keep, ctx.runtime) };
}
