// Pure: no Deno API.
/**
 * IP and CIDR handling with the exact semantics of Go's `net` package, so
 * that the built-in static IPAM prints byte-for-byte what the reference
 * plugin prints: `ParseIP` and `ParseCIDR` strictness (shared with the
 * results' checks), IPv4-mapped IPv6 printed as IPv4, and RFC 5952
 * compression of IPv6.
 *
 * @module
 */
import { parseCidr, parseIp } from "../spec/ip_address.ts";

/** An address as Go keeps it: always 16 bytes, IPv4 as `::ffff:a.b.c.d`. */
export interface GoIp {
  /** 16 bytes. */
  readonly bytes: Uint8Array;
  /** Whether it was written as IPv4 (Go's `To4() != nil` also holds for `::ffff:…`). */
  readonly written4: boolean;
}

/** A CIDR as Go's `ParseCIDR` returns it, with the IP's host bits kept. */
export interface GoCidr {
  /** The address. */
  readonly ip: GoIp;
  /** Prefix length in the written family (0–32 or 0–128). */
  readonly prefix: number;
}

const V4_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Go's `net.ParseIP`: `undefined` where Go returns nil (zones included). */
export function parseGoIp(s: string): GoIp | undefined {
  const ip = parseIp(s);
  if (!ip) return undefined;
  return ip.family === 6
    ? { bytes: ip.bytes, written4: false }
    : { bytes: new Uint8Array([...V4_PREFIX, ...ip.bytes]), written4: true };
}

/** Go's `net.ParseCIDR`, keeping the address's host bits. */
export function parseGoCidr(s: string): GoCidr | undefined {
  const cidr = parseCidr(s);
  if (!cidr) return undefined;
  return { ip: parseGoIp(s.slice(0, s.indexOf("/")))!, prefix: cidr.prefix };
}

/** Go's `To4() != nil`: IPv4, written either way. */
export function isV4(ip: GoIp): boolean {
  return V4_PREFIX.every((b, i) => ip.bytes[i] === b);
}

/** Go's `IP.String()`. */
export function formatGoIp(ip: GoIp): string {
  const b = ip.bytes;
  if (isV4(ip)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words = Array.from(
    { length: 8 },
    (_, i) => (b[i * 2]! << 8) | b[i * 2 + 1]!,
  );
  let start = -1;
  let end = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i >= 2 && j - i > end - start) [start, end] = [i, j];
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (start < 0) return hex(words);
  return `${hex(words.slice(0, start))}::${hex(words.slice(end))}`;
}

/**
 * Go's `IPNet.String()` for a CIDR as parsed: an IPv4 address (even one
 * written as `::ffff:…`) prints as IPv4 with the mask's last 32 bits.
 */
export function formatGoCidr(cidr: GoCidr): string {
  const prefix = isV4(cidr.ip) && !cidr.ip.written4
    ? Math.max(0, cidr.prefix - 96)
    : cidr.prefix;
  return `${formatGoIp(cidr.ip)}/${prefix}`;
}

/** Go's `IP.Equal`. */
export function goIpEqual(a: GoIp, b: GoIp): boolean {
  return a.bytes.every((x, i) => x === b.bytes[i]);
}

/** Go's `IPNet.Contains` for a CIDR as parsed (family must match). */
export function goCidrContains(cidr: GoCidr, ip: GoIp): boolean {
  const v4 = isV4(cidr.ip);
  if (v4 !== isV4(ip)) return false;
  // A v4 network's mask covers the last 4 bytes; `written4` decides its width.
  const bits = v4 && cidr.ip.written4 ? 96 + cidr.prefix : cidr.prefix;
  for (let i = 0; i < 16; i++) {
    const m = bits >= (i + 1) * 8
      ? 0xff
      : bits <= i * 8
      ? 0
      : (0xff << (8 - (bits - i * 8))) & 0xff;
    if ((cidr.ip.bytes[i]! & m) !== (ip.bytes[i]! & m)) return false;
  }
  return true;
}
