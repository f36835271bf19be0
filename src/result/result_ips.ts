// Pure: no Deno API.
/**
 * The IPs of a result of any version, for the front end's output.
 *
 * @module
 */
import type { CniResult, JsonObject } from "../spec/types.ts";
import { ipFamily } from "../spec/ip_address.ts";

/** One IP of a result. */
export interface ResultIp {
  /** `address/prefix`. */
  address: string;
  /** The gateway, when given. */
  gateway?: string;
  /** The interface name, when the result says which. */
  interface?: string;
}

/**
 * Every IP of a result, with its interface name resolved from the index.
 *
 * @example Usage
 * ```ts
 * import { resultIps } from "./result_ips.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(resultIps({
 *   cniVersion: "1.0.0",
 *   interfaces: [{ name: "eth0" }],
 *   ips: [{ address: "10.0.0.2/24", interface: 0 }],
 * }), [{ address: "10.0.0.2/24", interface: "eth0" }]);
 * ```
 */
export function resultIps(result: CniResult): ResultIp[] {
  const out: ResultIp[] = [];
  const push = (address: unknown, gateway: unknown, iface?: string) => {
    if (typeof address !== "string") return;
    const ip: ResultIp = { address };
    if (typeof gateway === "string" && gateway) ip.gateway = gateway;
    if (iface) ip.interface = iface;
    out.push(ip);
  };
  for (const key of ["ip4", "ip6"]) {
    const block = result[key] as JsonObject | undefined;
    if (block) push(block.ip, block.gateway);
  }
  const interfaces = (result.interfaces as JsonObject[] | undefined) ?? [];
  for (const ip of (result.ips as JsonObject[] | undefined) ?? []) {
    const index = ip.interface;
    const iface = typeof index === "number"
      ? interfaces[index]?.name
      : undefined;
    push(ip.address, ip.gateway, typeof iface === "string" ? iface : undefined);
  }
  return out;
}

/** The first IPv4 on `ifName` (or with no interface), else the first IP; without prefix. */
export function primaryIp(
  result: CniResult,
  ifName?: string,
): string | undefined {
  const ips = resultIps(result).filter((ip) =>
    !ifName || !ip.interface || ip.interface === ifName
  );
  const pick = ips.find((ip) => ipFamily(ip.address) === 4) ?? ips[0];
  return pick?.address.split("/")[0];
}
