/**
 * The per-pod flags (and the OCI hook's annotations) as text, turned into
 * the runtime's typed pod inputs by the runtime's own parsers, so that a
 * message names the flag. What the inputs mean is `runtime/pod_inputs.ts`.
 *
 * @module
 */
import {
  parseCapabilityArgs,
  parseDns,
  parseIpRanges,
  parseIps,
  parseMac,
  type PodInputs,
} from "../runtime/pod_inputs.ts";
import { parseCniArgs } from "../runtime/cni_args.ts";
import { parsePortMappings } from "../runtime/port_mappings.ts";
import { parseBandwidth } from "../runtime/bandwidth.ts";
import { parseAnnotations } from "../runtime/pod_annotations.ts";
import { flagText } from "./context.ts";

/** A per-pod flag's text by its name (`pod-name`, `port-mappings`, …). */
export type FlagText = (name: string) => string | undefined;

/** Reads `--annotations` (JSON, or `@file`). */
export async function readAnnotationsFlag(
  value: string | undefined,
): Promise<Record<string, string> | undefined> {
  if (value === undefined) return undefined;
  return parseAnnotations(
    await flagText("annotations", value),
    "--annotations",
  );
}

/**
 * Turns the per-pod flags' text (from the command line, or what the OCI
 * hook reads from annotations) into typed pod inputs.
 *
 * @throws {CniError} naming the flag, as the runtime's parsers do
 */
export function podInputs(
  flag: FlagText,
  annotations?: Record<string, string>,
): PodInputs {
  // Empty text counts as absent, except where an empty value is an error
  // (--mac, --ips) or a value (--cgroup-path).
  const text = (name: string) => flag(name) || undefined;
  const [podName, podNamespace, podUid] = [
    "pod-name",
    "pod-namespace",
    "pod-uid",
  ]
    .map(text);
  const args = text("args"), portMappings = text("port-mappings");
  const bandwidth = text("bandwidth"), dns = text("dns");
  const ipRanges = text("ip-ranges"), capabilities = text("capabilities");
  const mac = flag("mac"), ips = flag("ips"), cgroupPath = flag("cgroup-path");
  return {
    pod: {
      ...(podName ? { name: podName } : {}),
      ...(podNamespace ? { namespace: podNamespace } : {}),
      ...(podUid ? { uid: podUid } : {}),
    },
    ...(args ? { args: parseCniArgs(args, "--args") } : {}),
    ...(portMappings ? { portMappings: parsePortMappings(portMappings) } : {}),
    ...(bandwidth ? { bandwidth: parseBandwidth(bandwidth) } : {}),
    ...(dns ? { dns: parseDns(dns, "--dns") } : {}),
    ...(ipRanges ? { ipRanges: parseIpRanges(ipRanges, "--ip-ranges") } : {}),
    ...(mac !== undefined ? { mac: parseMac(mac, "--mac") } : {}),
    ...(ips !== undefined ? { ips: parseIps(ips, "--ips") } : {}),
    ...(cgroupPath !== undefined ? { cgroupPath } : {}),
    ...(annotations ? { annotations } : {}),
    ...(capabilities
      ? { capabilityArgs: parseCapabilityArgs(capabilities, "--capabilities") }
      : {}),
  };
}
