/**
 * `cnishim gc [--keep <id>]... | --all | --force-drop <id>...`:
 * destructive, it tears down every cached container not kept. Without
 * `--keep` that is every container on the node, so it must be asked for
 * by name (`--all`). `--force-drop` is the way out of a container no DEL
 * can ever clear: its cache entries and pod record are dropped without
 * running a plugin, and what may be left on the node is named.
 *
 * @module
 */
import { gc } from "../../runtime/gc.ts";
import { forceDrop } from "../../runtime/force_drop.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";
import { UsageError } from "../../spec/errors.ts";

/** Tears down the containers not kept, then sends GC to 1.1.0 networks. */
export async function runGc(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(
    ctx,
    0,
    0,
    "gc --keep <container-id>... | --all | --force-drop <container-id>...",
  );
  const list = (name: string) =>
    (ctx.parsed.flags.get(name) as string[] | undefined) ?? [];
  const keep = list("keep");
  const drop = list("force-drop");
  const all = ctx.parsed.flags.get("all") === true;
  if (drop.length) {
    if (all || keep.length) {
      throw new UsageError(
        `Flag "--force-drop" excludes "--keep" and "--all": it drops the containers it names, without DEL and without GC`,
      );
    }
    const reports = [];
    for (const id of drop) reports.push(await forceDrop(id, ctx.runtime));
    for (const r of reports) {
      for (const line of r.mayLeak) {
        ctx.io.stderr(
          `warning: container "${r.containerId}" dropped without DEL: ${line}\n`,
        );
      }
    }
    return { stdout: { forceDropped: reports } };
  }
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
