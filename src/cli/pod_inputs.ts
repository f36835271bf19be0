/**
 * Turns the per-pod flags (and pod annotations) into `CNI_ARGS`, capability
 * args and extra networks.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniArg, JsonObject } from "../spec/types.ts";
import { buildPodCniArgs, parseCniArgs } from "../runtime/cni_args.ts";
import { parsePortMappings } from "../runtime/port_mappings.ts";
import {
  bandwidthFromAnnotations,
  parseBandwidth,
} from "../runtime/bandwidth.ts";
import {
  assignInterfaces,
  extraNetworksFromAnnotations,
  parseAnnotations,
} from "../runtime/pod_annotations.ts";
import type { ExtraNetwork } from "../runtime/setup.ts";
import { flagText } from "./context.ts";

/** Per-pod inputs as given on the command line or in an OCI state. */
export interface PodInputFlags {
  /** Interface of the default network. */
  ifName?: string | undefined;
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

/** What setup needs. */
export interface PodInputs {
  /** `CNI_ARGS`. */
  args: CniArg[];
  /** Capability args. */
  capabilityArgs: JsonObject;
  /** Extra networks. */
  extraNetworks: ExtraNetwork[];
}

/** Decodes JSON given to a flag. */
export function jsonFlag(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `Cannot decode ${flag}: ${(error as Error).message}`,
    );
  }
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

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Builds CNI_ARGS, capability args and extra networks. */
export function buildPodInputs(
  containerId: string,
  flags: PodInputFlags,
): PodInputs {
  const ann = flags.annotations ?? {};
  const args = buildPodCniArgs(
    {
      ...(flags.podName ? { name: flags.podName } : {}),
      ...(flags.podNamespace ? { namespace: flags.podNamespace } : {}),
      ...(flags.podUid ? { uid: flags.podUid } : {}),
    },
    containerId,
    flags.args ? parseCniArgs(flags.args, "--args") : [],
  );
  const caps: JsonObject = {};
  if (flags.portMappings) {
    const ports = parsePortMappings(
      jsonFlag(flags.portMappings, "--port-mappings"),
    );
    if (ports.length) caps.portMappings = ports;
  }
  const bandwidth = flags.bandwidth
    ? parseBandwidth(jsonFlag(flags.bandwidth, "--bandwidth"))
    : bandwidthFromAnnotations(ann);
  if (bandwidth && Object.keys(bandwidth).length) caps.bandwidth = bandwidth;
  if (flags.dns) {
    const dns = jsonFlag(flags.dns, "--dns");
    if (!dns || typeof dns !== "object" || Array.isArray(dns)) {
      throw invalid("--dns", "expected an object {servers, searches, options}");
    }
    caps.dns = dns as JsonObject;
  }
  if (flags.ipRanges) {
    const ranges = jsonFlag(flags.ipRanges, "--ip-ranges");
    if (!Array.isArray(ranges) || !ranges.every(Array.isArray)) {
      throw invalid("--ip-ranges", "expected a list of lists of ranges");
    }
    caps.ipRanges = ranges;
  }
  if (flags.mac !== undefined) {
    if (!MAC.test(flags.mac)) {
      throw invalid("--mac", `"${flags.mac}" is not a MAC address`);
    }
    caps.mac = flags.mac;
  }
  if (flags.ips !== undefined) {
    const ips = flags.ips.trim().startsWith("[")
      ? jsonFlag(flags.ips, "--ips")
      : flags.ips.split(",").map((s) => s.trim()).filter(Boolean);
    if (
      !Array.isArray(ips) ||
      !ips.every((s) =>
        typeof s === "string" && /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(s)
      )
    ) {
      throw invalid("--ips", "expected IP addresses with optional /prefix");
    }
    caps.ips = ips;
  }
  if (flags.cgroupPath !== undefined) caps.cgroupPath = flags.cgroupPath;
  if (Object.keys(ann).length) caps["io.kubernetes.cri.pod-annotations"] = ann;
  if (flags.capabilities) {
    const extra = jsonFlag(flags.capabilities, "--capabilities");
    if (!extra || typeof extra !== "object" || Array.isArray(extra)) {
      throw invalid("--capabilities", "expected a JSON object");
    }
    Object.assign(caps, extra);
  }
  const extraNetworks = assignInterfaces(
    extraNetworksFromAnnotations(ann),
    flags.ifName ?? "eth0",
  ).map((n) => ({ name: n.name, ifName: n.ifName }));
  return { args, capabilityArgs: caps, extraNetworks };
}

function invalid(flag: string, why: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidNetworkConfig,
    `Invalid ${flag}: ${why}`,
  );
}
