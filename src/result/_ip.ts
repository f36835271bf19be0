// Pure: no Deno API.
/**
 * IP and CIDR parsing with Go's `net.ParseIP` strictness (no leading zeros
 * in IPv4 parts, one `::` at most, IPv4 tail allowed in IPv6).
 *
 * @module
 */
import { type ParsedIp, parseIp } from "../spec/ip_address.ts";

/** A parsed CIDR. */
export interface ParsedCidr extends ParsedIp {
  /** Prefix length. */
  prefix: number;
}

/** Parses `address/prefix`; the address keeps its host bits. */
export function parseCidr(s: string): ParsedCidr | undefined {
  const slash = s.indexOf("/");
  if (slash === -1) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, prefix };
}

/** 4, 6, or `undefined` for an address or CIDR. */
export function ipFamily(s: string): 4 | 6 | undefined {
  return (parseIp(s.split("/")[0]!) ?? undefined)?.family;
}
