// Pure: no Deno API.
/**
 * The `bandwidth` capability: from the pod annotations kubelet-era runtimes
 * read (`kubernetes.io/ingress-bandwidth`, `kubernetes.io/egress-bandwidth`)
 * or from the `--bandwidth` flag's JSON object.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import { decoded, invalid, show } from "./_input.ts";
import { isJsonObject } from "../spec/json.ts";

/** The `bandwidth` capability (CONVENTIONS.md): rates in bits/s, bursts in bits. */
export interface Bandwidth {
  /** Ingress rate, bits/s. */
  ingressRate?: number;
  /** Ingress burst, bits. */
  ingressBurst?: number;
  /** Egress rate, bits/s. */
  egressRate?: number;
  /** Egress burst, bits. */
  egressBurst?: number;
}

/** The ingress rate annotation. */
export const INGRESS_ANNOTATION = "kubernetes.io/ingress-bandwidth";
/** The egress rate annotation. */
export const EGRESS_ANNOTATION = "kubernetes.io/egress-bandwidth";
/** iSulad's misspelling of {@link EGRESS_ANNOTATION}, read when the right one is absent. */
export const ISULAD_EGRESS_ANNOTATION = "kubernetes.io/engress-bandwidth";
/**
 * Burst sent with an annotation rate: iSulad's INT32_MAX. containerd sends
 * MaxUint32 and CRI-O about 4 G; Debian's bandwidth plugin accepts this one.
 */
export const ANNOTATION_BURST = 2147483647;

const MIN_RATE = 1000n; // 1k, containerd's "unreasonably small"
const MAX_RATE = 10n ** 15n; // 1P, containerd's "unreasonably large"
const INT64_MAX = 2n ** 63n - 1n;
const QUANTITY =
  /^\+?(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d{1,3})|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;
const DECIMAL: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const FIELDS = [
  "ingressRate",
  "ingressBurst",
  "egressRate",
  "egressBurst",
] as const;

/**
 * Parses a Kubernetes resource quantity into a whole number, rounding a
 * fraction up like `Quantity.Value()`: plain and decimal numbers, decimal SI
 * suffixes (`n u m k M G T P E`), binary ones (`Ki`…`Ei`) and exponents
 * (`1e6`). Note `m` is milli, so `"10m"` is 0.01 (rounded up to 1), not
 * 10 megabits.
 *
 * @param text The quantity, e.g. `"10M"` or `"1.5Gi"`.
 * @param field What to name in messages, e.g. `annotation "kubernetes.io/ingress-bandwidth"`.
 * @returns The value (bits/s for the bandwidth annotations).
 * @throws {CniError} code 7 for garbage, negatives and values past int64.
 *
 * @example Usage
 * ```ts
 * import { parseQuantity } from "./bandwidth.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parseQuantity("1.5M", "rate"), 1_500_000);
 * equal(parseQuantity("1Ki", "rate"), 1024);
 * throws(() => parseQuantity("-1k", "rate"), /rate/);
 * ```
 */
export function parseQuantity(text: string, field: string): number {
  const fail = (why: string): never => {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid ${field}: ${JSON.stringify(text)} ${why}`,
    );
  };
  if (text.startsWith("-")) fail("is negative");
  const m = QUANTITY.exec(text);
  const [, whole = "", frac = "", exp, suffix] = m ?? [];
  if (!m || whole + frac === "") {
    fail(`is not a resource quantity (e.g. "10M", "1.5Gi", "100k")`);
  }
  let num = BigInt(whole + frac);
  let den = 10n ** BigInt(frac.length);
  const binary = suffix ? BINARY.indexOf(suffix) : -1;
  const power = exp !== undefined ? Number(exp) : DECIMAL[suffix ?? ""] ?? 0;
  if (binary >= 0) num *= 1024n ** BigInt(binary + 1);
  else if (power >= 0) num *= 10n ** BigInt(power);
  else den *= 10n ** BigInt(-power);
  const value = (num + den - 1n) / den;
  if (value > INT64_MAX) fail("is too large");
  return Number(value);
}

/**
 * Reads the bandwidth annotations like containerd: each rate must be within
 * 1k..1P bits/s, and a rate comes with a burst of {@link ANNOTATION_BURST}.
 * iSulad's `kubernetes.io/engress-bandwidth` is read when
 * `kubernetes.io/egress-bandwidth` is absent.
 *
 * @param annotations The pod annotations.
 * @returns The capability, or `undefined` when neither annotation is set.
 * @throws {CniError} code 7 naming the annotation.
 *
 * @example Usage
 * ```ts
 * import { bandwidthFromAnnotations } from "./bandwidth.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * deepEqual(bandwidthFromAnnotations({ "kubernetes.io/ingress-bandwidth": "10M" }), {
 *   ingressRate: 10_000_000,
 *   ingressBurst: 2147483647,
 * });
 * equal(bandwidthFromAnnotations({}), undefined);
 * ```
 */
export function bandwidthFromAnnotations(
  annotations: Readonly<Record<string, string>>,
): Bandwidth | undefined {
  const rate = (key: string): number | undefined => {
    if (!Object.hasOwn(annotations, key)) return undefined;
    const field = `annotation ${JSON.stringify(key)}`;
    const text = annotations[key]!;
    const value = parseQuantity(text, field);
    const big = BigInt(value);
    if (big < MIN_RATE || big > MAX_RATE) {
      throw new CniError(
        CNI_ERROR_CODES.invalidNetworkConfig,
        `Invalid ${field}: ${JSON.stringify(text)} is ${
          big < MIN_RATE ? "below 1k" : "above 1P"
        } bits/s (wanted 1k..1P)`,
      );
    }
    return value;
  };
  const ingress = rate(INGRESS_ANNOTATION);
  const egress = Object.hasOwn(annotations, EGRESS_ANNOTATION)
    ? rate(EGRESS_ANNOTATION)
    : rate(ISULAD_EGRESS_ANNOTATION);
  if (ingress === undefined && egress === undefined) return undefined;
  return {
    ...(ingress !== undefined
      ? { ingressRate: ingress, ingressBurst: ANNOTATION_BURST }
      : {}),
    ...(egress !== undefined
      ? { egressRate: egress, egressBurst: ANNOTATION_BURST }
      : {}),
  };
}

/**
 * Parses the `--bandwidth` flag's JSON object. Keys are matched ignoring
 * case (containerd writes Go's `IngressRate`); values are whole numbers
 * ≥ 0 and pass through unchanged (a rate without a burst is left for the
 * plugin to judge).
 *
 * @param value A JSON object, or JSON text to decode.
 * @param source What to name in messages.
 * @returns The capability with the keys given.
 * @throws {CniError} code 6 when the text is not JSON, 7 for unknown keys or bad values.
 *
 * @example Usage
 * ```ts
 * import { parseBandwidth } from "./bandwidth.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseBandwidth('{"IngressRate":1000,"ingressBurst":2000}'), {
 *   ingressRate: 1000,
 *   ingressBurst: 2000,
 * });
 * throws(() => parseBandwidth({ ingressRate: -1 }), /--bandwidth\.ingressRate/);
 * ```
 */
export function parseBandwidth(
  value: unknown,
  source = "--bandwidth",
): Bandwidth {
  value = decoded(value, source);
  if (!isJsonObject(value)) {
    throw invalid(
      source,
      `expected a JSON object with ingressRate, ingressBurst, egressRate, egressBurst, got ${
        show(value)
      }`,
    );
  }
  const out: Bandwidth = {};
  for (const [key, v] of Object.entries(value)) {
    const field = FIELDS.find((f) => f.toLowerCase() === key.toLowerCase());
    const where = `${source}.${key}`;
    if (!field) {
      throw invalid(
        where,
        "unknown key (expected ingressRate, ingressBurst, egressRate or egressBurst)",
      );
    }
    if (out[field] !== undefined) {
      throw invalid(where, `the key is also given in another case`);
    }
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw invalid(
        where,
        `${show(v)} is not a whole number ≥ 0`,
      );
    }
    out[field] = v;
  }
  return out;
}
