// Pure: no Deno API.
/**
 * IP address parsing with Go's `net.ParseIP` strictness (no leading zeros
 * in IPv4 parts, one `::` at most, IPv4 tail allowed in IPv6): what the
 * results' and the meta plugin's address checks share.
 *
 * @module
 */

/** A parsed address. */
export interface ParsedIp {
  /** 4 or 6. */
  family: 4 | 6;
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const words: number[] = [];
  // An IPv4 tail ends the address, as in Go: "1.2.3.4::" is not one.
  const last = halves.length === 2 ? tail : head;
  let v4: Uint8Array | undefined;
  if (last.length && last[last.length - 1]!.includes(".")) {
    v4 = parseV4(last[last.length - 1]!);
    if (!v4) return undefined;
    last.pop();
  }
  for (const g of [...head, ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
  }
  const size = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 1 ? size !== 8 : size > 7) return undefined;
  words.push(...head.map((g) => parseInt(g, 16)));
  for (let i = size; i < 8; i++) words.push(0);
  words.push(...tail.map((g) => parseInt(g, 16)));
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address. */
export function parseIp(s: string): ParsedIp | undefined {
  if (s.includes(":")) {
    const bytes = parseV6(s);
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = parseV4(s);
  return bytes ? { family: 4, bytes } : undefined;
}

/** A parsed CIDR. */
export interface ParsedCidr extends ParsedIp {
  /** Prefix length. */
  prefix: number;
}

/**
 * Parses `address/prefix` as Go's `net.ParseCIDR`: the address keeps its
 * host bits, and the prefix is decimal digits (leading zeros allowed, as
 * Go's `dtoi`) no larger than the family's width.
 */
export function parseCidr(s: string): ParsedCidr | undefined {
  const slash = s.indexOf("/");
  if (slash === -1) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^[0-9]+$/.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, prefix };
}

/** 4, 6, or `undefined` for an address or CIDR. */
export function ipFamily(s: string): 4 | 6 | undefined {
  return parseIp(s.split("/")[0]!)?.family;
}
