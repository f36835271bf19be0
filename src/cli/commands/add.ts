/**
 * `cnishim add <container-id> <netns-path>`.
 *
 * @module
 */
import { validateIfName } from "../../spec/identifiers.ts";
import { setup } from "../../runtime/setup.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";
import {
  buildPodInputs,
  type PodInputFlags,
  readAnnotationsFlag,
} from "../pod_inputs.ts";
import { UsageError } from "../../spec/errors.ts";

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
  const flags: PodInputFlags = {
    ifName: stringFlag(ctx, "ifname"),
    podName: stringFlag(ctx, "pod-name"),
    podNamespace: stringFlag(ctx, "pod-namespace"),
    podUid: stringFlag(ctx, "pod-uid"),
    args: stringFlag(ctx, "args"),
    portMappings: stringFlag(ctx, "port-mappings"),
    bandwidth: stringFlag(ctx, "bandwidth"),
    dns: stringFlag(ctx, "dns"),
    ipRanges: stringFlag(ctx, "ip-ranges"),
    mac: stringFlag(ctx, "mac"),
    ips: stringFlag(ctx, "ips"),
    cgroupPath: stringFlag(ctx, "cgroup-path"),
    capabilities: stringFlag(ctx, "capabilities"),
    annotations: await readAnnotationsFlag(stringFlag(ctx, "annotations")),
  };
  return await addPod(ctx, containerId, netns, flags, output);
}

/** Shared by `add` and `hook`. */
export async function addPod(
  ctx: CommandContext,
  containerId: string,
  netns: string,
  flags: PodInputFlags,
  output: "json" | "cni" = "json",
): Promise<CommandOutput> {
  if (flags.ifName !== undefined) validateIfName(flags.ifName);
  const inputs = buildPodInputs(containerId, flags);
  const result = await setup(containerId, netns, {
    ...ctx.runtime,
    ...(flags.ifName ? { ifName: flags.ifName } : {}),
    args: inputs.args,
    capabilityArgs: inputs.capabilityArgs,
    extraNetworks: inputs.extraNetworks,
  });
  ctx.logger.info("pod set up", {
    containerId,
    networks: result.networks.map((n) => `${n.name}@${n.interface}`),
  });
  if (output === "cni") {
    const ifName = flags.ifName ?? "eth0";
    const main = result.networks.find((n) => n.interface === ifName) ??
      result.networks[0];
    return { stdout: main?.result ?? {} };
  }
  return { stdout: result };
}
