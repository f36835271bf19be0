/**
 * `cnishim status`.
 *
 * @module
 */
import { status } from "../../runtime/status.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** Reports readiness; exit 0 only when ready. */
export async function runStatus(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "status");
  const report = await status(ctx.runtime);
  if (!report.ready) {
    for (const r of report.reasons) ctx.io.stderr(`not ready: ${r}\n`);
  }
  return { stdout: report, exitCode: report.ready ? 0 : 1 };
}
