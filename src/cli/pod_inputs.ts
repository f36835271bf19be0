/**
 * The per-pod flags (and the OCI hook's annotations) as text, turned into
 * the runtime's typed pod inputs by the runtime's own parsers, so that a
 * message names the flag. What the inputs mean is `runtime/pod_inputs.ts`.
 *
 * @module
 */
import type { PodInputs } from "../runtime/pod_inputs.ts";
import {
  parseCapabilityArgs,
  parseDns,
  parseIpRanges,
  parseIps,
  parseMac,
} from "../runtime/pod_inputs.ts";
import { parseCniArgs } from "../runtime/cni_args.ts";
import { parsePortMappings } from "../runtime/port_mappings.ts";
import { parseBandwidth } from "../runtime/bandwidth.ts";
import { parseAnnotations } from "../runtime/pod_annotations.ts";
import { flagText } from "./context.ts";

/** Per-pod inputs as given on the command line or in an OCI state. */
export interface PodInputFlags {
  /** `K8S_POD_NAME`. */
  podName?: string | undefined;
  /** `K8S_POD_NAMESPACE`. */
  podNamespace?: string | undefined;
  /** `K8S_POD_UID`. */
  podUid?: string | undefined;
  /** `--args`. */
  args?: string | undefined;
  /** `--port-mappings` (JSON text). */
  portMappings?: string | undefined;
  /** `--bandwidth` (JSON text). */
  bandwidth?: string | undefined;
  /** `--dns` (JSON text). */
  dns?: string | undefined;
  /** `--ip-ranges` (JSON text). */
  ipRanges?: string | undefined;
  /** `--mac`. */
  mac?: string | undefined;
  /** `--ips`. */
  ips?: string | undefined;
  /** `--cgroup-path`. */
  cgroupPath?: string | undefined;
  /** `--capabilities` (JSON text). */
  capabilities?: string | undefined;
  /** Pod annotations. */
  annotations?: Record<string, string> | undefined;
}

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
 * Turns the flags' text into typed pod inputs.
 *
 * @throws {CniError} naming the flag, as the runtime's parsers do
 */
export function podInputs(flags: PodInputFlags): PodInputs {
  return {
    pod: {
      ...(flags.podName ? { name: flags.podName } : {}),
      ...(flags.podNamespace ? { namespace: flags.podNamespace } : {}),
      ...(flags.podUid ? { uid: flags.podUid } : {}),
    },
    ...(flags.args ? { args: parseCniArgs(flags.args, "--args") } : {}),
    ...(flags.portMappings
      ? { portMappings: parsePortMappings(flags.portMappings) }
      : {}),
    ...(flags.bandwidth ? { bandwidth: parseBandwidth(flags.bandwidth) } : {}),
    ...(flags.dns ? { dns: parseDns(flags.dns, "--dns") } : {}),
    ...(flags.ipRanges
      ? { ipRanges: parseIpRanges(flags.ipRanges, "--ip-ranges") }
      : {}),
    ...(flags.mac !== undefined ? { mac: parseMac(flags.mac, "--mac") } : {}),
    ...(flags.ips !== undefined ? { ips: parseIps(flags.ips, "--ips") } : {}),
    ...(flags.cgroupPath !== undefined ? { cgroupPath: flags.cgroupPath } : {}),
    ...(flags.annotations ? { annotations: flags.annotations } : {}),
    ...(flags.capabilities
      ? {
        capabilityArgs: parseCapabilityArgs(
          flags.capabilities,
          "--capabilities",
        ),
      }
      : {}),
  };
}
