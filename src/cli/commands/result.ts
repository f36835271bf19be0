/**
 * `cnishim result <container-id>`.
 *
 * @module
 */
import { validateContainerId } from "../../spec/identifiers.ts";
import { getCachedAttachments } from "../../engine/get_cached_result.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** Prints the cached results of a container. */
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
