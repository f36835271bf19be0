/**
 * `cnishim add <container-id> <netns-path>`.
 *
 * @module
 */
import { setup } from "../../runtime/setup.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";
import { podInputs, readAnnotationsFlag } from "../pod_inputs.ts";
import type { PodInputs } from "../../runtime/pod_inputs.ts";
import { UsageError } from "../../spec/errors.ts";
import { DEFAULT_IFNAME } from "../../spec/defaults.ts";

/** Sets up a pod and prints its networks (or the default network's CNI result). */
export async function runAdd(ctx: CommandContext): Promise<CommandOutput> {
  const [containerId, netns] = expectArgs(
    ctx,
    2,
    2,
    "add <container-id> <netns-path>",
  ) as [string, string];
  const output = stringFlag(ctx, "output") ?? "json";
  if (output !== "json" && output !== "cni") {
    throw new UsageError(`Invalid --output "${output}": use json or cni`);
  }
  const annotations = await readAnnotationsFlag(stringFlag(ctx, "annotations"));
  const inputs = podInputs((name) => stringFlag(ctx, name), annotations);
  const ifName = stringFlag(ctx, "ifname");
  return await addPod(ctx, containerId, netns, ifName, inputs, output);
}

/** Shared by `add` and `hook`. */
export async function addPod(
  ctx: CommandContext,
  containerId: string,
  netns: string,
  ifName: string | undefined,
  inputs: PodInputs,
  output: "json" | "cni" = "json",
): Promise<CommandOutput> {
  const result = await setup(containerId, netns, {
    ...ctx.runtime,
    ...(ifName !== undefined ? { ifName } : {}),
    ...inputs,
  });
  ctx.logger.info("pod set up", {
    containerId,
    networks: result.networks.map((n) => `${n.name}@${n.interface}`),
  });
  if (output === "cni") {
    const main = result.networks.find((n) =>
      n.interface === (ifName ?? DEFAULT_IFNAME)
    ) ??
      result.networks[0];
    return { stdout: main?.result ?? {} };
  }
  return { stdout: result };
}
