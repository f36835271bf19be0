/**
 * `cnishim gc [--keep <id>]... | --all`: destructive, it tears down every
 * cached container not kept. Without `--keep` that is every container on
 * the node, so it must be asked for by name (`--all`).
 *
 * @module
 */
import { gc } from "../../runtime/gc.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";
import { UsageError } from "../../spec/errors.ts";

/** Tears down the containers not kept, then sends GC to 1.1.0 networks. */
export async function runGc(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "gc --keep <container-id>... | --all");
  const keep = (ctx.parsed.flags.get("keep") as string[] | undefined) ?? [];
  const all = ctx.parsed.flags.get("all") === true;
  if (all && keep.length) {
    throw new UsageError(
      'Flags "--all" and "--keep" exclude each other: --all keeps nothing',
    );
  }
  if (!all && !keep.length) {
    throw new UsageError(
      "gc without --keep would tear down every cached container: name the ones in use with --keep, or give --all",
    );
  }
  return { stdout: await gc(keep, ctx.runtime) };
}
