/**
 * `cnishim networks`.
 *
 * @module
 */
import { requireConfNetworks } from "../../runtime/conf_networks.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";
import { resolveRuntimeOptions } from "../../runtime/runtime_options.ts";

/** Lists the networks of the conf dir and the files skipped, with why. */
export async function runNetworks(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "networks");
  const loaded = await requireConfNetworks(
    resolveRuntimeOptions(ctx.runtime),
  );
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
