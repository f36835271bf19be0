// Pure: no Deno API.
/**
 * The built-in static IPAM (`type` `cnishim-static` or `dockin-ipam`): the
 * semantics of the reference plugin `containernetworking/plugins`
 * `plugins/ipam/static`, checked against Debian's `/usr/lib/cni/static` by
 * tests/plugin/static_ipam_diff_test.ts.
 *
 * Addresses come from, in this order: `ipam.addresses`; `CNI_ARGS` `IP=`
 * (appended; `GATEWAY=` then applies to the addresses of a subnet holding
 * it, which are only the `IP=` ones); `args.cni.ips` (replaces the list);
 * capability `runtimeConfig.ips` (replaces it again). Messages and codes
 * are the reference plugin's, so a runtime sees the same thing either way.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import type { CniResult, JsonObject } from "../spec/types.ts";
import { versionAtLeast } from "../spec/version.ts";
import { convertResult } from "../result/convert_result.ts";
import {
  formatGoCidr,
  formatGoIp,
  type GoCidr,
  goCidrContains,
  type GoIp,
  goIpEqual,
  isV4,
  parseGoCidr,
  parseGoIp,
} from "./_go_net.ts";
import { loadArgs, type PluginCall } from "./_skel.ts";
import { isJsonObject } from "../spec/json.ts";

interface Address {
  // Set for config-file entries until they are parsed (the reference
  // parses them last, so a bad one is reported after the other sources).
  text?: string;
  cidr?: GoCidr;
  gateway?: GoIp | undefined;
}

interface Route {
  dst: GoCidr | undefined;
  gw: GoIp | undefined;
  extra: JsonObject;
}

interface IpamConfig {
  addresses: Address[];
  routes: Route[];
  dns: JsonObject;
}

// The reference plugin reports everything it finds itself as a plain Go
// error, which skel turns into code 999.
function fail(message: string): never {
  throw new CniError(CNI_ERROR_CODES.internal, message);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "boolean" ? "bool" : typeof v;
}

function typeError(v: unknown, field: string, goType: string): never {
  return fail(
    `json: cannot unmarshal ${
      typeName(v)
    } into Go struct field ${field} of type ${goType}`,
  );
}

function stringField(v: unknown, field: string): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : typeError(v, field, "string");
}

function objectField(v: unknown, field: string, goType: string): JsonObject {
  if (v === undefined || v === null) return {};
  if (!isJsonObject(v)) {
    return typeError(v, field, goType);
  }
  return v as JsonObject;
}

function listField(v: unknown, field: string, goType: string): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : typeError(v, field, goType);
}

function stringList(v: unknown, field: string): string[] {
  return listField(v, field, "[]string").map((s) => {
    if (typeof s !== "string") return typeError(s, field, "string");
    return s;
  });
}

// net.IP's UnmarshalText: "" is no address.
function ipField(v: unknown, field: string): GoIp | undefined {
  const text = stringField(v, field);
  if (text === "") return undefined;
  return parseGoIp(text) ?? fail(`invalid IP address: ${text}`);
}

function decodeIpam(raw: unknown): IpamConfig {
  const ipam = objectField(raw, "Net.ipam", "main.IPAMConfig");
  stringField(ipam.type, "IPAMConfig.ipam.type");
  const addresses = listField(
    ipam.addresses,
    "IPAMConfig.ipam.addresses",
    "[]main.Address",
  ).map((a): Address => {
    const obj = objectField(a, "IPAMConfig.ipam.addresses", "main.Address");
    return {
      text: stringField(obj.address, "Address.ipam.addresses.address"),
      gateway: ipField(obj.gateway, "Address.ipam.addresses.gateway"),
    };
  });
  const routes = listField(
    ipam.routes,
    "IPAMConfig.ipam.routes",
    "[]*types.Route",
  )
    .filter((r) => r !== null)
    .map((r): Route => {
      const obj = objectField(r, "IPAMConfig.ipam.routes", "types.Route");
      const { dst, gw, ...extra } = obj;
      const dstText = dst === undefined || dst === null
        ? undefined
        : stringField(dst, "route.dst");
      return {
        dst: dstText === undefined
          ? undefined
          : parseGoCidr(dstText) ?? fail(`invalid CIDR address: ${dstText}`),
        gw: ipField(gw, "route.gw"),
        extra,
      };
    });
  const dnsRaw = objectField(ipam.dns, "IPAMConfig.ipam.dns", "types.DNS");
  const dns: JsonObject = {};
  for (const key of ["nameservers", "search", "options"]) {
    const list = stringList(dnsRaw[key], `DNS.ipam.dns.${key}`);
    if (list.length) dns[key] = list;
  }
  const domain = stringField(dnsRaw.domain, "DNS.ipam.dns.domain");
  if (domain) dns.domain = domain;
  return { addresses, routes, dns };
}

function cidrList(list: string[], message: string): Address[] {
  return list.map((text) => ({
    cidr: parseGoCidr(text) ?? fail(`${message}, got: '${text}'`),
  }));
}

/** The reference plugin's `LoadIPAMConfig`: the addresses, routes and DNS to hand out. */
function loadIpamConfig(call: PluginCall): IpamConfig {
  const config = call.config;
  const runtimeConfig = objectField(
    config.runtimeConfig,
    "Net.runtimeConfig",
    'struct { IPs []string "json:\\"ips,omitempty\\"" }',
  );
  const rtIps = stringList(runtimeConfig.ips, "Net.runtimeConfig.ips");
  const args = objectField(
    config.args,
    "Net.args",
    "struct { A *main.IPAMArgs }",
  );
  const cni = objectField(args.cni, "Net.args.cni", "main.IPAMArgs");
  const argsIps = stringList(cni.ips, "IPAMArgs.args.cni.ips");
  if (config.ipam === undefined || config.ipam === null) {
    fail("IPAM config missing 'ipam' key");
  }
  const ipam = decodeIpam(config.ipam);

  if (call.args !== "") {
    const env = loadArgs(call.args, ["IP", "GATEWAY"]);
    for (const item of (env.get("IP") || undefined)?.split(",") ?? []) {
      const text = item.trim();
      ipam.addresses.push({
        cidr: parseGoCidr(text) ??
          fail(
            `the 'ip' field is expected to be in CIDR notation, got: '${text}'`,
          ),
      });
    }
    for (const item of (env.get("GATEWAY") || undefined)?.split(",") ?? []) {
      const gw = parseGoIp(item.trim()) ??
        fail(`invalid gateway address: ${item}`);
      for (const address of ipam.addresses) {
        if (address.cidr && goCidrContains(address.cidr, gw)) {
          address.gateway = gw;
        }
      }
    }
  }
  const notCidr = "an entry in the 'ips' field is NOT in CIDR notation";
  if (argsIps.length) ipam.addresses = cidrList(argsIps, notCidr);
  if (rtIps.length) ipam.addresses = cidrList(rtIps, notCidr);

  let v4 = 0;
  let v6 = 0;
  for (const address of ipam.addresses) {
    if (!address.cidr) {
      address.cidr = parseGoCidr(address.text ?? "") ??
        fail(
          `the 'address' field is expected to be in CIDR notation, got: '${address.text}'`,
        );
    }
    if (isV4(address.cidr.ip)) v4++;
    else v6++;
  }
  if (
    (v4 > 1 || v6 > 1) && !versionAtLeast(call.cniVersion || "0.1.0", "0.3.0")
  ) {
    fail(
      `CNI version ${call.cniVersion} does not support more than 1 address per family`,
    );
  }
  return ipam;
}

function buildResult(ipam: IpamConfig, version: string): CniResult {
  const result: CniResult = { cniVersion: "1.1.0" };
  if (ipam.addresses.length) {
    result.ips = ipam.addresses.map((a) => {
      const ip: JsonObject = { address: formatGoCidr(a.cidr!) };
      if (a.gateway) ip.gateway = formatGoIp(a.gateway);
      return ip;
    });
  }
  if (ipam.routes.length) {
    result.routes = ipam.routes.map((r) => {
      const route: JsonObject = { dst: r.dst ? formatGoCidr(r.dst) : "<nil>" };
      if (r.gw) route.gw = formatGoIp(r.gw);
      // Route attributes exist from spec 1.1.0 on (and Go drops them before).
      if (version === "1.1.0") {
        for (const key of ["mtu", "advmss", "priority", "table", "scope"]) {
          const v = r.extra[key];
          if (
            typeof v === "number" &&
            (v !== 0 || key === "table" || key === "scope")
          ) {
            route[key] = v;
          }
        }
      }
      return route;
    });
  }
  result.dns = ipam.dns;
  if (version === "1.1.0") return result;
  const target = version === "" ? "0.1.0" : version;
  if (!versionAtLeast(target, "0.3.0") && !ipam.addresses.length) {
    fail("cannot convert: no valid IP addresses");
  }
  return convertResult({ ...result, cniVersion: "1.0.0" }, target);
}

function checkPrevResult(ipam: IpamConfig, call: PluginCall): void {
  const raw = call.config.prevResult;
  if (raw === undefined || raw === null) fail("Required prevResult missing");
  if (!isJsonObject(raw)) {
    fail("failed to parse prevResult: not a JSON object");
  }
  const prev = raw as CniResult;
  let current: CniResult;
  try {
    current = convertResult(
      { ...prev, cniVersion: prev.cniVersion || call.cniVersion },
      "1.0.0",
    );
  } catch (error) {
    return fail(`failed to convert prevResult: ${errorText(error)}`);
  }
  const ips = ((current.ips as JsonObject[] | undefined) ?? []).map((ip) => ({
    address: parseGoCidr(String(ip.address ?? "")),
    gateway: typeof ip.gateway === "string" ? parseGoIp(ip.gateway) : undefined,
  }));
  for (const want of ipam.addresses) {
    for (const have of ips) {
      if (!have.address || !goIpEqual(want.cidr!.ip, have.address.ip)) {
        continue;
      }
      if (!want.gateway) break;
      if (have.gateway && goIpEqual(want.gateway, have.gateway)) break;
      fail(
        `static: Failed to match addr ${
          formatGoIp(have.address.ip)
        } on interface ${call.ifName}`,
      );
    }
  }
}

/**
 * Runs one call of the static IPAM after skel's checks: ADD returns the
 * result in the config's version; CHECK compares the configured addresses
 * with `prevResult`; DEL, GC and STATUS have nothing to do (it holds no
 * state).
 *
 * @example Usage
 * ```ts
 * import { staticIpam } from "./static_ipam.ts";
 * import { deepEqual } from "node:assert/strict";
 * const result = staticIpam({
 *   command: "ADD", containerId: "c1", netns: "/x", ifName: "eth0",
 *   args: "", path: "/opt/cni/bin", cniVersion: "1.0.0", env: {},
 *   config: {
 *     cniVersion: "1.0.0", name: "n", type: "bridge",
 *     ipam: { type: "cnishim-static", addresses: [{ address: "10.1.0.5/24" }] },
 *   },
 * });
 * deepEqual(result, { cniVersion: "1.0.0", ips: [{ address: "10.1.0.5/24" }], dns: {} });
 * ```
 * @throws {CniError} code 999 with the reference plugin's messages
 */
export function staticIpam(call: PluginCall): CniResult | undefined {
  switch (call.command) {
    case "ADD":
      return buildResult(loadIpamConfig(call), call.cniVersion);
    case "CHECK":
      checkPrevResult(loadIpamConfig(call), call);
      return undefined;
    default:
      return undefined;
  }
}
