/**
 * `cnishim check <container-id> <netns-path>`.
 *
 * @module
 */
import { check } from "../../runtime/check.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
} from "../context.ts";

/** Runs CHECK on every network cached for the container. */
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
