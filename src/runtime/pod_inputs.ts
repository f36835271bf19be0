// Pure: no Deno API.
/**
 * What a pod asks for besides its networks' configs, typed as go-cni's
 * `With…` options are (`WithCapabilityPortMap`, `WithCapabilityBandWidth`,
 * …): validated here and turned into `CNI_ARGS`, capability args and the
 * extra networks the annotations ask for. Each parser also takes the JSON
 * text a command line hands over and names `source` in its messages.
 *
 * @module
 */
import type { CniArg, JsonObject } from "../spec/types.ts";
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import { formatCniArgs } from "../invoke/plugin_env.ts";
import { isJsonObject } from "../spec/json.ts";
import { parseCidr, parseIp } from "../spec/ip_address.ts";
import {
  buildPodCniArgs,
  type PodIdentity,
  validateCniArgs,
} from "./cni_args.ts";
import { parsePortMappings, type PortMapping } from "./port_mappings.ts";
import {
  type Bandwidth,
  bandwidthFromAnnotations,
  parseBandwidth,
} from "./bandwidth.ts";
import {
  assignInterfaces,
  extraNetworksFromAnnotations,
  parseAnnotations,
  wantsDefaultNetwork,
} from "./pod_annotations.ts";
import { decoded, invalid } from "./_input.ts";

/** The `dns` capability (CONVENTIONS.md). */
export interface Dns {
  /** Name servers. */
  servers?: string[];
  /** Search domains. */
  searches?: string[];
  /** resolv.conf options. */
  options?: string[];
  /** The local domain. */
  domain?: string;
}

/** One range of the `ipRanges` capability (host-local's). */
export interface IpRange {
  /** The subnet, e.g. `10.1.0.0/16`. */
  subnet: string;
  /** First address to hand out. */
  rangeStart?: string;
  /** Last address to hand out. */
  rangeEnd?: string;
  /** The gateway. */
  gateway?: string;
}

/** A pod's inputs: all optional, each validated by {@link translatePodInputs}. */
export interface PodInputs {
  /**
   * The pod's name, namespace and UID: given, `CNI_ARGS` starts with
   * `IgnoreUnknown=1` and the `K8S_POD_*` pairs (ocicni's order), then
   * `args`; absent, `CNI_ARGS` is `args` alone.
   */
  pod?: PodIdentity;
  /** More `CNI_ARGS` pairs. */
  args?: readonly CniArg[];
  /** The `portMappings` capability (CRI, CNI or go-cni field spellings). */
  portMappings?: readonly PortMapping[];
  /**
   * The `bandwidth` capability.
   * @default {from the bandwidth annotations}
   */
  bandwidth?: Bandwidth;
  /** The `dns` capability. */
  dns?: Dns;
  /** The `ipRanges` capability: a list of range sets. */
  ipRanges?: readonly (readonly IpRange[])[];
  /** The `mac` capability. */
  mac?: string;
  /** The `ips` capability: addresses, each with an optional `/prefix`. */
  ips?: readonly string[];
  /** The `cgroupPath` capability. */
  cgroupPath?: string;
  /**
   * Pod annotations: extra networks (iSulad's, Multus'), bandwidth, and
   * the `io.kubernetes.cri.pod-annotations` capability.
   */
  annotations?: Readonly<Record<string, string>>;
  /** Raw capability args, merged last over everything above. */
  capabilityArgs?: Readonly<JsonObject>;
}

/** One network a pod asks for beyond the default, with its interface. */
export interface ExtraNetwork {
  /** The network name. */
  name: string;
  /** The interface in the pod. */
  ifName: string;
}

/** What {@link translatePodInputs} makes of a pod's inputs. */
export interface TranslatedPodInputs {
  /** `CNI_ARGS`. */
  args: CniArg[];
  /** Capability args. */
  capabilityArgs: JsonObject;
  /** Extra networks, interfaces assigned. */
  extraNetworks: ExtraNetwork[];
  /** False when the annotations ask for no default network (`none`). */
  defaultNetwork: boolean;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const ENCODER = new TextEncoder();

/**
 * Longest pod name, namespace or UID, in characters: a Kubernetes object
 * name (a DNS subdomain, the longest of its name rules).
 */
export const MAX_POD_NAME_LENGTH = 253;
/**
 * Most bytes of a pod's annotations, keys and values together (UTF-8):
 * Kubernetes' own limit (`TotalAnnotationSizeLimitB`).
 */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;
/** Most port mappings of one pod: over a thousand host ports is no pod's. */
export const MAX_PORT_MAPPINGS = 1024;
/** Longest `cgroupPath`, in bytes: Linux's `PATH_MAX`. */
const MAX_CGROUP_PATH_BYTES = 4096;
/**
 * Most bytes of all capability args together, as the JSON each plugin
 * may get on stdin and each cache entry keeps: room for the annotations
 * (which travel as one) and as much again for the rest.
 */
export const MAX_CAPABILITY_ARGS_BYTES = 2 * MAX_ANNOTATIONS_BYTES;
/**
 * Most bytes of `CNI_ARGS` as sent: half of Linux's `MAX_ARG_STRLEN`
 * (128 KiB, the longest one environment string may be, past which every
 * exec fails with E2BIG) and 1/32 of the usual 2 MiB for all of them. The
 * rest of a plugin's environment is bounded elsewhere (container ID ≤ 128,
 * ifname ≤ 15, the netns a real path) or is the operator's own (`PATH`,
 * the bin dirs).
 */
export const MAX_CNI_ARGS_BYTES = 64 * 1024;

/**
 * Validates a pod's inputs and turns them into `CNI_ARGS`, capability args
 * and extra networks.
 *
 * @param containerId The sandbox container ID (`K8S_POD_INFRA_CONTAINER_ID`).
 * @param ifName The default network's interface (extras get others).
 * @param inputs The inputs.
 * @returns What setup sends and attaches.
 * @throws {CniError} code 4 for a bad `CNI_ARGS` pair or an input over its
 * size limit (`MAX_POD_NAME_LENGTH`, …), 6 for undecodable
 * text, 7 for any other bad value (the message names the field)
 *
 * @example Usage
 * ```ts
 * import { translatePodInputs } from "./pod_inputs.ts";
 * import { deepEqual } from "node:assert/strict";
 * const out = translatePodInputs("c1", "eth0", {
 *   pod: { name: "web-0", namespace: "prod" },
 *   mac: "0a:58:0a:f4:00:05",
 *   annotations: { "k8s.v1.cni.cncf.io/networks": "storage" },
 * });
 * deepEqual(out.capabilityArgs.mac, "0a:58:0a:f4:00:05");
 * deepEqual(out.extraNetworks, [{ name: "storage", ifName: "eth1" }]);
 * deepEqual(out.args[0], ["IgnoreUnknown", "1"]);
 * ```
 */
export function translatePodInputs(
  containerId: string,
  ifName: string,
  inputs: PodInputs,
): TranslatedPodInputs {
  boundPodIdentity(inputs.pod);
  const ann = inputs.annotations === undefined
    ? {}
    : parseAnnotations(inputs.annotations, "annotations");
  boundAnnotations(ann);
  if ((inputs.portMappings?.length ?? 0) > MAX_PORT_MAPPINGS) {
    throw tooBig(
      "portMappings",
      `${inputs.portMappings!.length} port mappings`,
      `${MAX_PORT_MAPPINGS}`,
    );
  }
  if (
    inputs.cgroupPath !== undefined &&
    bytes(inputs.cgroupPath) > MAX_CGROUP_PATH_BYTES
  ) {
    throw tooBig(
      "cgroupPath",
      `${bytes(inputs.cgroupPath)} bytes`,
      `${MAX_CGROUP_PATH_BYTES} (PATH_MAX)`,
    );
  }
  const extra = inputs.args ?? [];
  if (!inputs.pod) validateCniArgs(extra, "args");
  const args = inputs.pod
    ? buildPodCniArgs(inputs.pod, containerId, extra)
    : [...extra];
  const caps: JsonObject = {};
  if (inputs.portMappings) {
    const ports = parsePortMappings(inputs.portMappings, "portMappings");
    if (ports.length) caps.portMappings = ports;
  }
  const bandwidth = inputs.bandwidth
    ? parseBandwidth(inputs.bandwidth, "bandwidth")
    : bandwidthFromAnnotations(ann);
  if (bandwidth && Object.keys(bandwidth).length) caps.bandwidth = bandwidth;
  if (inputs.dns) caps.dns = parseDns(inputs.dns, "dns");
  if (inputs.ipRanges) {
    caps.ipRanges = parseIpRanges(inputs.ipRanges, "ipRanges");
  }
  if (inputs.mac !== undefined) caps.mac = parseMac(inputs.mac, "mac");
  if (inputs.ips !== undefined) caps.ips = parseIps(inputs.ips, "ips");
  if (inputs.cgroupPath !== undefined) caps.cgroupPath = inputs.cgroupPath;
  if (Object.keys(ann).length) caps["io.kubernetes.cri.pod-annotations"] = ann;
  if (inputs.capabilityArgs) {
    Object.assign(
      caps,
      parseCapabilityArgs(inputs.capabilityArgs, "capabilityArgs"),
    );
  }
  const capsBytes = bytes(JSON.stringify(caps));
  if (capsBytes > MAX_CAPABILITY_ARGS_BYTES) {
    throw tooBig(
      "capability args",
      `${capsBytes} bytes of JSON`,
      `${MAX_CAPABILITY_ARGS_BYTES}`,
    );
  }
  const argsBytes = bytes(formatCniArgs(args));
  if (argsBytes > MAX_CNI_ARGS_BYTES) {
    throw tooBig(
      "CNI_ARGS",
      `${argsBytes} bytes`,
      `${MAX_CNI_ARGS_BYTES} (plugins get it in their environment, which exec bounds)`,
    );
  }
  const extraNetworks = assignInterfaces(
    extraNetworksFromAnnotations(ann, ifName),
    ifName,
  );
  return {
    args,
    capabilityArgs: caps,
    extraNetworks,
    defaultNetwork: wantsDefaultNetwork(ann),
  };
}

// Sizes are checked first, before anything is recorded or run: an input
// too big to exec would fail every plugin, the rollback, and every later
// DEL that replays it from the cache.
function boundPodIdentity(pod: PodIdentity | undefined): void {
  for (const [field, value] of Object.entries(pod ?? {})) {
    if (typeof value === "string" && value.length > MAX_POD_NAME_LENGTH) {
      throw tooBig(
        `pod ${field}`,
        `${value.length} characters`,
        `${MAX_POD_NAME_LENGTH} (a Kubernetes object name)`,
      );
    }
  }
}

function boundAnnotations(ann: Readonly<Record<string, string>>): void {
  let total = 0;
  for (const [key, value] of Object.entries(ann)) {
    total += bytes(key) + bytes(value);
  }
  if (total > MAX_ANNOTATIONS_BYTES) {
    throw tooBig(
      "annotations",
      `${total} bytes of keys and values`,
      `${MAX_ANNOTATIONS_BYTES} (Kubernetes' own)`,
    );
  }
}

function bytes(text: string): number {
  return ENCODER.encode(text).length;
}

function tooBig(what: string, size: string, limit: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidEnvironmentVariables,
    `Invalid ${what}: ${size}, over the limit of ${limit}`,
  );
}

/**
 * The `dns` capability from an object or its JSON text.
 *
 * @throws {CniError} code 6 for text that is not JSON, 7 for a non-object
 */
export function parseDns(value: unknown, source: string): Dns {
  const dns = decoded(value, source);
  if (!isJsonObject(dns)) {
    throw invalid(source, "expected an object {servers, searches, options}");
  }
  return dns as Dns;
}

/**
 * The `ipRanges` capability from a list of lists or its JSON text.
 *
 * @throws {CniError} code 6 for text that is not JSON, 7 for another shape
 */
export function parseIpRanges(value: unknown, source: string): IpRange[][] {
  const ranges = decoded(value, source);
  if (!Array.isArray(ranges) || !ranges.every(Array.isArray)) {
    throw invalid(source, "expected a list of lists of ranges");
  }
  return ranges;
}

/**
 * The `mac` capability: six colon-separated hex pairs.
 *
 * @throws {CniError} code 7 for anything else
 */
export function parseMac(value: unknown, source: string): string {
  if (typeof value !== "string" || !MAC.test(value)) {
    throw invalid(source, `"${value}" is not a MAC address`);
  }
  return value;
}

/**
 * The `ips` capability from a list, its JSON text, or comma-separated
 * text; each must be an address with an optional `/prefix`, with Go's
 * `net.ParseIP`/`ParseCIDR` strictness.
 *
 * @throws {CniError} code 6 for text that is not JSON, 7 for a bad address
 */
export function parseIps(value: unknown, source: string): string[] {
  const ips = typeof value === "string" && !value.trim().startsWith("[")
    ? value.split(",").map((s) => s.trim()).filter(Boolean)
    : decoded(value, source);
  if (
    !Array.isArray(ips) ||
    !ips.every((s) =>
      typeof s === "string" &&
      (parseIp(s) !== undefined || parseCidr(s) !== undefined)
    )
  ) {
    throw invalid(source, "expected IP addresses with optional /prefix");
  }
  return ips;
}

/**
 * Raw capability args from an object or its JSON text.
 *
 * @throws {CniError} code 6 for text that is not JSON, 7 for a non-object
 */
export function parseCapabilityArgs(
  value: unknown,
  source: string,
): JsonObject {
  const caps = decoded(value, source);
  if (!isJsonObject(caps)) throw invalid(source, "expected a JSON object");
  return caps;
}
