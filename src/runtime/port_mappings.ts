// Pure: no Deno API.
/**
 * The `portMappings` capability from what runtimes hand over: CRI's
 * `PortMapping` (`container_port`, `host_port`, `host_ip`, enum `protocol`),
 * the CNI capability form (`containerPort`, `hostPort`, `hostIP`) and
 * go-cni's untagged Go fields (`ContainerPort`, `HostPort`, `HostIP`), the
 * last because containerd writes those.
 *
 * @module
 */
import { parseIp } from "../spec/ip_address.ts";
import { decoded, invalid, show } from "./_input.ts";
import { isJsonObject } from "../spec/json.ts";

/** One entry of the `portMappings` capability (CONVENTIONS.md). */
export interface PortMapping {
  /** Port on the host, 1–65535. */
  hostPort: number;
  /** Port in the pod, 1–65535. */
  containerPort: number;
  /** Lower-case protocol; sctp is passed through, unlike iSulad which maps it to tcp. */
  protocol: "tcp" | "udp" | "sctp";
  /** Host address to bind; absent means every address. */
  hostIP?: string;
}

// Field spellings are matched ignoring case and `_`, like Go's decoder
// (which ignores case) plus CRI's snake_case.
const FIELDS: Record<string, keyof PortMapping> = {
  hostport: "hostPort",
  containerport: "containerPort",
  protocol: "protocol",
  hostip: "hostIP",
};
// CRI's Protocol enum: TCP = 0, UDP = 1, SCTP = 2.
const PROTOCOLS = ["tcp", "udp", "sctp"] as const;

/**
 * Parses port mappings into the CNI capability form. Entries whose host port
 * is 0 or missing are dropped (CRI: the port is only exposed in the pod);
 * the protocol defaults to tcp; an empty host IP is left out. `null` counts
 * as absent, as in Go's decoder.
 *
 * @param value A JSON array, or JSON text to decode.
 * @param source What to name in messages.
 * @returns The mappings with a host port, in order.
 * @throws {CniError} code 6 when the text is not JSON, 7 when an entry is
 * invalid (the message names `source[index].field`).
 *
 * @example Usage
 * ```ts
 * import { parsePortMappings } from "./port_mappings.ts";
 * import { deepEqual } from "node:assert/strict";
 * const cri = '[{"container_port":80,"host_port":8080,"protocol":1},{"container_port":9090}]';
 * deepEqual(parsePortMappings(cri), [{ hostPort: 8080, containerPort: 80, protocol: "udp" }]);
 * ```
 */
export function parsePortMappings(
  value: unknown,
  source = "--port-mappings",
): PortMapping[] {
  value = decoded(value, source);
  if (!Array.isArray(value)) {
    throw invalid(
      source,
      `expected a JSON array of port mappings, got ${show(value)}`,
    );
  }
  const out: PortMapping[] = [];
  value.forEach((entry: unknown, i) => {
    const mapping = parseEntry(entry, `${source}[${i}]`);
    if (mapping) out.push(mapping);
  });
  return out;
}

function parseEntry(entry: unknown, where: string): PortMapping | undefined {
  if (!isJsonObject(entry)) {
    throw invalid(where, `expected an object, got ${show(entry)}`);
  }
  const found: Partial<Record<keyof PortMapping, [string, unknown]>> = {};
  for (const [key, v] of Object.entries(entry)) {
    const field = FIELDS[key.toLowerCase().replaceAll("_", "")];
    if (!field) {
      throw invalid(
        `${where}.${key}`,
        "unknown field (expected container_port, host_port, protocol, host_ip or their camelCase forms)",
      );
    }
    const seen = found[field];
    if (seen) {
      throw invalid(
        `${where}.${key}`,
        `the field is also given as "${seen[0]}"`,
      );
    }
    if (v !== null) found[field] = [key, v];
  }
  const [ckey = "containerPort", cport] = found.containerPort ?? [];
  if (cport === undefined) {
    throw invalid(
      `${where}.containerPort`,
      "missing (also spelt container_port)",
    );
  }
  const containerPort = port(cport, `${where}.${ckey}`);
  const [hkey = "hostPort", hport = 0] = found.hostPort ?? [];
  const hostPort = hport === 0 ? 0 : port(hport, `${where}.${hkey}`);
  const protocol = parseProtocol(found.protocol, where);
  const [ikey = "hostIP", ip = ""] = found.hostIP ?? [];
  if (typeof ip !== "string") {
    throw invalid(`${where}.${ikey}`, `expected a string, got ${show(ip)}`);
  }
  // Go's net.ParseIP strictness; zones (`%eth0`) are refused: a host IP
  // to bind cannot carry one.
  if (ip !== "" && parseIp(ip) === undefined) {
    throw invalid(
      `${where}.${ikey}`,
      `${show(ip)} is not an IPv4 or IPv6 address`,
    );
  }
  if (hostPort === 0) return undefined;
  return { hostPort, containerPort, protocol, ...(ip ? { hostIP: ip } : {}) };
}

function port(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalid(where, `expected an integer port, got ${show(value)}`);
  }
  if (value < 1 || value > 65535) {
    throw invalid(
      where,
      `port ${show(value)} is out of range (wanted 1–65535)`,
    );
  }
  return value;
}

function parseProtocol(
  found: [string, unknown] | undefined,
  where: string,
): PortMapping["protocol"] {
  if (!found) return "tcp";
  const [key, value] = found;
  const name = typeof value === "number"
    ? PROTOCOLS[value]
    : typeof value === "string"
    ? PROTOCOLS.find((p) => p === value.toLowerCase())
    : undefined;
  if (!name) {
    throw invalid(
      `${where}.${key}`,
      `unknown protocol ${
        show(value)
      } (wanted tcp, udp, sctp or CRI's 0, 1, 2)`,
    );
  }
  return name;
}
