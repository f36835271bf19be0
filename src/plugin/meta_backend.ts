/**
 * The resource-manager backend of the meta plugin (Dockin's contract):
 * `GET <backend>?podName=<name>` answering
 * `{code, reqId, message, data: [{type, podIp, subnetMask, gateway, ifName, master}]}`.
 * The whole answer is validated before anything touches the netns; every
 * failure has the code a runtime can act on (11 = try again later).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import type { JsonObject } from "../spec/types.ts";
import { isJsonObject, parseJson } from "../spec/json.ts";
import { validateIfName, validateNetworkName } from "../spec/identifiers.ts";
import { formatGoIp, isV4, parseGoIp } from "./_go_net.ts";

/** One network of a pod, validated. */
export interface PodNetwork {
  /** The network name: a config in `confDir` has this `name`. */
  type: string;
  /** `podIp/prefix`. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
  /** The gateway, when the backend gave one. */
  gateway: string | undefined;
  /** The interface name in the pod. */
  ifName: string;
  /** Whether this network's result is the meta plugin's result. */
  master: boolean;
}

/** A validated backend answer. */
export interface BackendAnswer {
  /** The backend's request ID, for the logs. */
  reqId: string | undefined;
  /** The networks, in the backend's order. */
  networks: PodNetwork[];
}

const MAX_BODY = 1024 * 1024;

function invalid(message: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidNetworkConfig,
    `Invalid backend answer: ${message}`,
  );
}

/** Mask bits from `255.255.255.0` or `ffffff00`; `undefined` when not a contiguous mask. */
export function maskPrefix(mask: string): number | undefined {
  let bytes: number[] | undefined;
  if (/^[0-9a-fA-F]{8}$/.test(mask)) {
    bytes = [0, 2, 4, 6].map((i) => parseInt(mask.slice(i, i + 2), 16));
  } else {
    const ip = parseGoIp(mask);
    if (ip?.written4) bytes = [...ip.bytes.slice(12)];
  }
  if (!bytes) return undefined;
  const bits = bytes.map((b) => b.toString(2).padStart(8, "0")).join("");
  if (!/^1*0*$/.test(bits)) return undefined;
  return bits.indexOf("0") === -1 ? 32 : bits.indexOf("0");
}

function networkOf(entry: unknown, i: number): PodNetwork {
  const where = `data[${i}]`;
  if (!isJsonObject(entry)) {
    throw invalid(`${where} is not an object`);
  }
  const e = entry as JsonObject;
  const str = (key: string, required: boolean): string => {
    const v = e[key];
    if (v === undefined || v === null || v === "") {
      if (required) throw invalid(`${where}.${key} is missing`);
      return "";
    }
    if (typeof v !== "string") {
      throw invalid(`${where}.${key} must be a string, not ${typeof v}`);
    }
    return v;
  };
  const type = str("type", true);
  try {
    validateNetworkName(type);
  } catch (error) {
    throw invalid(`${where}.type: ${errorText(error)}`);
  }
  const ifName = str("ifName", true);
  try {
    validateIfName(ifName);
  } catch (error) {
    throw invalid(`${where}.ifName: ${errorText(error)}`);
  }
  const podIpText = str("podIp", true);
  const podIp = parseGoIp(podIpText);
  if (!podIp) {
    throw invalid(
      `${where}.podIp ${JSON.stringify(podIpText)} is not an IP address`,
    );
  }
  const family = isV4(podIp) ? 4 : 6;
  const maskText = str("subnetMask", true);
  // Dockin silently turns a mask it cannot read into /0 (every address
  // on-link); here it is an error. IPv6 pods give a prefix length.
  const prefix = family === 4
    ? maskPrefix(maskText)
    : /^[0-9]{1,3}$/.test(maskText) && Number(maskText) <= 128
    ? Number(maskText)
    : undefined;
  if (prefix === undefined || prefix === 0) {
    throw invalid(
      `${where}.subnetMask ${JSON.stringify(maskText)} is not a usable ${
        family === 4
          ? "IPv4 mask (dotted like 255.255.255.0 or 8 hex digits like ffffff00)"
          : "IPv6 prefix length (1-128)"
      }`,
    );
  }
  const gatewayText = str("gateway", false);
  let gateway: string | undefined;
  if (gatewayText) {
    const gw = parseGoIp(gatewayText);
    if (!gw || isV4(gw) !== (family === 4)) {
      throw invalid(
        `${where}.gateway ${
          JSON.stringify(gatewayText)
        } is not an IPv${family} address`,
      );
    }
    gateway = formatGoIp(gw);
  }
  const master = e.master ?? false;
  if (typeof master !== "boolean") {
    throw invalid(
      `${where}.master must be true or false, not ${JSON.stringify(master)}`,
    );
  }
  return {
    type,
    address: `${formatGoIp(podIp)}/${prefix}`,
    family,
    gateway,
    ifName,
    master,
  };
}

/**
 * Validates a decoded backend answer: `code` 0, a non-empty `data`, exactly
 * one master, unique interface names, addresses, masks and gateways.
 *
 * @example Usage
 * ```ts
 * import { validateBackendAnswer } from "./meta_backend.ts";
 * import { equal } from "node:assert/strict";
 * const answer = validateBackendAnswer({
 *   code: 0,
 *   data: [{ type: "net-a", podIp: "10.1.0.5", subnetMask: "ffffff00", gateway: "10.1.0.1", ifName: "eth0", master: true }],
 * });
 * equal(answer.networks[0]?.address, "10.1.0.5/24");
 * ```
 * @throws {CniError} code 11 for a non-zero `code`, 7 for bad data
 */
export function validateBackendAnswer(body: unknown): BackendAnswer {
  if (!isJsonObject(body)) {
    throw invalid("not a JSON object");
  }
  const b = body as JsonObject;
  const reqId = typeof b.reqId === "string" ? b.reqId : undefined;
  if (typeof b.code !== "number") {
    throw invalid(`"code" must be a number, not ${JSON.stringify(b.code)}`);
  }
  if (b.code !== 0) {
    throw new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `The backend refused the request: ${
        typeof b.message === "string" && b.message ? b.message : "no message"
      } (code ${b.code}${reqId ? `, reqId ${reqId}` : ""})`,
    );
  }
  if (!Array.isArray(b.data) || b.data.length === 0) {
    throw invalid(`"data" must be a non-empty list of networks`);
  }
  const networks = b.data.map(networkOf);
  const masters = networks.filter((n) => n.master).length;
  if (masters !== 1) {
    throw invalid(
      `exactly one network must have "master": true, found ${masters}`,
    );
  }
  const seen = new Set<string>();
  for (const n of networks) {
    if (seen.has(n.ifName)) {
      throw invalid(`interface name ${JSON.stringify(n.ifName)} appears twice`);
    }
    seen.add(n.ifName);
  }
  return { reqId, networks };
}

/** The request URL for a pod: the name URL-encoded, appended to any existing query. */
export function backendUrl(backend: string, podName: string): string {
  return `${backend}${backend.includes("?") ? "&" : "?"}podName=${
    encodeURIComponent(podName)
  }`;
}

/**
 * Asks the backend for a pod's networks and validates the answer.
 *
 * @throws {CniError} 11 unreachable, timed out or 5xx; 6 not JSON; 11 `code` ≠ 0; 7 bad data
 */
export async function askBackend(
  backend: string,
  podName: string,
  timeoutMs: number,
): Promise<BackendAnswer> {
  const url = backendUrl(backend, podName);
  const text = await get(url, timeoutMs, true);
  return validateBackendAnswer(
    parseJson(text, `Cannot decode the answer of backend ${url}`),
  );
}

/**
 * STATUS: whether the backend answers HTTP at all (below 500) in time.
 *
 * @throws {CniError} code 50 when it does not
 */
export async function probeBackend(
  backend: string,
  timeoutMs: number,
): Promise<void> {
  if (!backend) {
    throw new CniError(
      CNI_ERROR_CODES.pluginNotAvailable,
      'No "backend" configured: ADD cannot ask for networks',
    );
  }
  try {
    await get(backend, timeoutMs, false);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.pluginNotAvailable,
      errorText(error),
      { cause: error },
    );
  }
}

async function get(
  url: string,
  timeoutMs: number,
  readBody: boolean,
): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  const late = () =>
    new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `The backend ${url} did not answer within ${timeoutMs} ms`,
    );
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: "error" });
  } catch (error) {
    if (signal.aborted) throw late();
    throw new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `Cannot reach the backend ${url}: ${errorText(error)}`,
      { cause: error },
    );
  }
  let text: string;
  try {
    const bytes = new Uint8Array(await response.arrayBuffer());
    text = new TextDecoder().decode(bytes.subarray(0, MAX_BODY + 1));
  } catch (error) {
    if (signal.aborted) throw late();
    throw new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `Cannot read the answer of backend ${url}: ${errorText(error)}`,
    );
  }
  if (response.status >= 500) {
    throw new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `The backend ${url} failed with HTTP ${response.status}`,
    );
  }
  if (readBody && text.length > MAX_BODY) {
    throw invalid(`the answer is larger than ${MAX_BODY} bytes`);
  }
  return text;
}
