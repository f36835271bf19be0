// Pure: no Deno API.
/**
 * Pod annotations: the `--annotations` flag, and the extra networks a pod
 * asks for through iSulad's `network.alpha.kubernetes.io/network` or
 * Multus' `k8s.v1.cni.cncf.io/networks`.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import {
  ifNameProblem,
  MAX_IFNAME_BYTES,
  MAX_NETWORK_NAME_LENGTH,
  networkNameProblem,
} from "../spec/identifiers.ts";
import { decoded, invalid, show } from "./_input.ts";
import { isJsonObject } from "../spec/json.ts";
import { DEFAULT_IFNAME } from "../spec/defaults.ts";

/** One extra network asked for by an annotation. */
export interface NetworkRequest {
  /** The network name. */
  name: string;
  /** The interface in the pod; assigned by {@link assignInterfaces} when absent. */
  interface?: string;
}

/** iSulad's annotation: `{"name","interface"}` or a list of them. */
export const ISULAD_NETWORKS_ANNOTATION = "network.alpha.kubernetes.io/network";
/** Multus' annotation: `"a,b@net2,ns/c"` or a JSON list of selections. */
export const MULTUS_NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks";
/**
 * cnishim's annotation, the one its hooks.d file selects containers by:
 * the pod's networks as `entry[,entry]...`, `entry` = `network[@ifname]`.
 * The first entry is the pod's primary network, on the default interface
 * unless it names another; `default` there stands for the conf dir's
 * default network, and `none` for no network on the default interface
 * (where the runtime networks it itself, as CRI-O does). The others get
 * their `@ifname` or the next free `ethN`. An empty value, or `default`,
 * asks for the default network only.
 */
export const CNISHIM_NETWORK_ANNOTATION = "cnishim.io/network";

/**
 * Parses pod annotations: a JSON object of string values, or its text
 * (the `--annotations` flag).
 *
 * @param value The object, or its JSON text.
 * @param source What to name in messages.
 * @returns The annotations.
 * @throws {CniError} code 6 when the text is not JSON, 7 when it is not an
 * object of strings (the message names the key).
 *
 * @example Usage
 * ```ts
 * import { parseAnnotations } from "./pod_annotations.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseAnnotations('{"a":"1"}'), { a: "1" });
 * throws(() => parseAnnotations('{"a":1}'), /--annotations key "a"/);
 * ```
 */
export function parseAnnotations(
  input: unknown,
  source = "--annotations",
): Record<string, string> {
  const value = decoded(input, source);
  if (!isJsonObject(value)) {
    throw invalid(
      source,
      `expected a JSON object of strings, got ${show(value)}`,
    );
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === "") {
      throw invalid(`${source} key ""`, "annotation keys cannot be empty");
    }
    if (typeof v !== "string") {
      throw invalid(
        `${source} key ${JSON.stringify(key)}`,
        `expected a string value, got ${show(v)}`,
      );
    }
  }
  return { ...(value as Record<string, string>) };
}

/**
 * The extra networks the annotations ask for: cnishim's first (see
 * {@link CNISHIM_NETWORK_ANNOTATION}), then iSulad's, then Multus'. Unlike iSulad, an entry without a name is an error rather than
 * skipped; as iSulad, a key of its entries other than `name` and
 * `interface` is ignored (and listed in `ignored`), while Multus' JSON form
 * refuses an unknown key. In Multus' string form a `namespace/`
 * prefix is accepted and dropped (networks are not namespaced here), as is
 * `"namespace"` in its JSON form. An empty annotation asks for nothing.
 *
 * @param annotations The pod annotations.
 * @param defaultIfName The default network's interface, which the first
 * entry of cnishim's annotation takes unless it names another.
 * @returns The requests, in annotation order.
 * @throws {CniError} code 6 when an annotation is not JSON, 7 for a bad
 * entry (the message names the annotation, the index and the field).
 *
 * @example Usage
 * ```ts
 * import { extraNetworksFromAnnotations } from "./pod_annotations.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   extraNetworksFromAnnotations({
 *     "network.alpha.kubernetes.io/network": '{"name":"storage","interface":"eth9"}',
 *     "k8s.v1.cni.cncf.io/networks": "a, ns/b@net2",
 *   }),
 *   [{ name: "storage", interface: "eth9" }, { name: "a" }, { name: "b", interface: "net2" }],
 * );
 * ```
 */
export function extraNetworksFromAnnotations(
  annotations: Readonly<Record<string, string>>,
  defaultIfName = DEFAULT_IFNAME,
  ignored: string[] = [],
): NetworkRequest[] {
  const get = (key: string): string =>
    Object.hasOwn(annotations, key) ? annotations[key]!.trim() : "";
  const out: NetworkRequest[] = [];
  const own = get(CNISHIM_NETWORK_ANNOTATION);
  if (own) {
    const where = `annotation ${JSON.stringify(CNISHIM_NETWORK_ANNOTATION)}`;
    own.split(",").forEach((raw, i) => {
      const item = raw.trim();
      const [name = "", ifName, ...moreAt] = item.split("@");
      if (moreAt.length || item === "") {
        throw invalid(
          `${where}[${i}]`,
          `${JSON.stringify(item)} is not network[@ifname]`,
        );
      }
      if (name === "default" || name === "none") {
        if (i !== 0 || ifName !== undefined) {
          throw invalid(
            `${where}[${i}]`,
            `"${name}" (${
              name === "none" ? "no network" : "the conf dir's default network"
            } on the default interface) can only be the first entry, without @ifname`,
          );
        }
        return; // the default interface: see wantsDefaultNetwork
      }
      out.push(
        request(
          name,
          ifName ?? (i === 0 ? defaultIfName : undefined),
          `${where}[${i}]`,
        ),
      );
    });
  }
  const isulad = get(ISULAD_NETWORKS_ANNOTATION);
  if (isulad) {
    const where = `annotation ${JSON.stringify(ISULAD_NETWORKS_ANNOTATION)}`;
    const value = decoded(isulad, where);
    if (Array.isArray(value)) {
      value.forEach((e: unknown, i) =>
        out.push(fromObject(e, `${where}[${i}]`, false, ignored))
      );
    } else out.push(fromObject(value, where, false, ignored));
  }
  const multus = get(MULTUS_NETWORKS_ANNOTATION);
  if (multus) {
    const where = `annotation ${JSON.stringify(MULTUS_NETWORKS_ANNOTATION)}`;
    if (/^[[{"]/.test(multus)) {
      const value = decoded(multus, where);
      if (!Array.isArray(value)) {
        throw invalid(
          where,
          `expected a JSON list of {"name", "interface"}, got ${show(value)}`,
        );
      }
      value.forEach((e: unknown, i) =>
        out.push(fromObject(e, `${where}[${i}]`, true))
      );
    } else {
      multus.split(",").forEach((item, i) =>
        out.push(fromItem(item.trim(), `${where}[${i}]`))
      );
    }
  }
  return out;
}

/**
 * Gives each request its interface: the one it asked for, or `eth1`, `eth2`,
 * … in order, skipping names already taken by the default network or by
 * another request.
 *
 * @param requests The requests, e.g. from {@link extraNetworksFromAnnotations}.
 * @param defaultIfName The default network's interface.
 * @returns Name and interface of each request, in order.
 * @throws {CniError} code 7 when two networks (or one and the default
 * network) ask for the same interface; the message names both.
 *
 * @example Usage
 * ```ts
 * import { assignInterfaces } from "./pod_annotations.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(assignInterfaces([{ name: "a" }, { name: "b", interface: "eth1" }]), [
 *   { name: "a", ifName: "eth2" },
 *   { name: "b", ifName: "eth1" },
 * ]);
 * ```
 */
export function assignInterfaces(
  requests: readonly NetworkRequest[],
  defaultIfName = DEFAULT_IFNAME,
): { name: string; ifName: string }[] {
  // The default interface is reserved for automatic naming only: an
  // explicit request for it replaces the default network (iSulad).
  const owners = new Map<string, string>();
  for (const { name, interface: ifName } of requests) {
    if (ifName === undefined) continue;
    const owner = owners.get(ifName);
    if (owner) {
      throw new CniError(
        CNI_ERROR_CODES.invalidNetworkConfig,
        `Cannot assign interfaces: network ${JSON.stringify(name)} asks for ${
          JSON.stringify(ifName)
        }, which ${owner} already has`,
      );
    }
    owners.set(ifName, `network ${JSON.stringify(name)}`);
  }
  let next = 1;
  return requests.map(({ name, interface: ifName }) => {
    while (ifName === undefined) {
      const candidate = `eth${next++}`;
      if (!owners.has(candidate) && candidate !== defaultIfName) {
        ifName = candidate;
      }
    }
    return { name, ifName };
  });
}

/**
 * Whether the pod gets the conf dir's default network on its default
 * interface: not when the first entry of {@link CNISHIM_NETWORK_ANNOTATION}
 * is `none`. (An extra network asking for that interface replaces it too;
 * `setup` decides that.)
 *
 * @example Usage
 * ```ts
 * import { wantsDefaultNetwork } from "./pod_annotations.ts";
 * import { equal } from "node:assert/strict";
 * equal(wantsDefaultNetwork({ "cnishim.io/network": "none,storage@net1" }), false);
 * equal(wantsDefaultNetwork({}), true);
 * ```
 */
export function wantsDefaultNetwork(
  annotations: Readonly<Record<string, string>>,
): boolean {
  const own = Object.hasOwn(annotations, CNISHIM_NETWORK_ANNOTATION)
    ? annotations[CNISHIM_NETWORK_ANNOTATION]!
    : "";
  return own.split(",")[0]!.trim() !== "none";
}

/**
 * The keys of iSulad's annotation entries that are neither `name` nor
 * `interface` (`network_plane`, …), as `annotation "…"[i].key`: iSulad's
 * own parser ignores them, and so does cnishim, which says so at debug.
 *
 * @example Usage
 * ```ts
 * import { ignoredAnnotationKeys } from "./pod_annotations.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   ignoredAnnotationKeys({
 *     "network.alpha.kubernetes.io/network": '[{"name":"a","network_plane":"p"}]',
 *   }),
 *   ['annotation "network.alpha.kubernetes.io/network"[0].network_plane'],
 * );
 * ```
 */
export function ignoredAnnotationKeys(
  annotations: Readonly<Record<string, string>>,
): string[] {
  const ignored: string[] = [];
  extraNetworksFromAnnotations(annotations, DEFAULT_IFNAME, ignored);
  return ignored;
}

function fromObject(
  entry: unknown,
  where: string,
  multus: boolean,
  ignored: string[] = [],
): NetworkRequest {
  if (!isJsonObject(entry)) {
    throw invalid(
      where,
      `expected an object {"name", "interface"}, got ${show(entry)}`,
    );
  }
  const known = multus
    ? ["name", "interface", "namespace"]
    : ["name", "interface"];
  for (const [key, v] of Object.entries(entry)) {
    // iSulad's parser ignores keys it does not know; Multus' JSON keys all
    // mean something (ips, mac, cni-args, …), so one not honoured is refused.
    if (!known.includes(key) && !multus) {
      ignored.push(`${where}.${key}`);
      continue;
    }
    if (!known.includes(key)) {
      throw invalid(
        `${where}.${key}`,
        `unsupported key (known: ${known.join(", ")})`,
      );
    }
    if (typeof v !== "string") {
      throw invalid(`${where}.${key}`, `expected a string, got ${show(v)}`);
    }
  }
  const { name, interface: ifName } = entry as Record<
    string,
    string | undefined
  >;
  if (name === undefined) throw invalid(`${where}.name`, "missing");
  return request(name, ifName, where);
}

// Multus' `[namespace/]name[@interface]`.
function fromItem(item: string, where: string): NetworkRequest {
  const [ref = "", ifName, ...moreAt] = item.split("@");
  const parts = ref.split("/");
  if (moreAt.length || parts.length > 2) {
    throw invalid(
      where,
      `${JSON.stringify(item)} is not [namespace/]name[@interface]`,
    );
  }
  if (parts.length === 2 && parts[0] === "") {
    throw invalid(
      where,
      `${JSON.stringify(item)} has an empty namespace before "/"`,
    );
  }
  return request(parts.at(-1)!, ifName, where);
}

function request(
  name: string,
  ifName: string | undefined,
  where: string,
): NetworkRequest {
  const nameProblem = networkNameProblem(name)?.rule;
  if (nameProblem) {
    throw invalid(
      `${where}.name`,
      nameProblem === "empty"
        ? "the network name is empty"
        : nameProblem === "length"
        ? `the network name is longer than ${MAX_NETWORK_NAME_LENGTH} characters`
        : `network name ${
          JSON.stringify(name)
        } has characters outside [a-zA-Z0-9_.-] or does not start with a letter or digit`,
    );
  }
  if (ifName === undefined) return { name };
  const shown = JSON.stringify(ifName);
  const ifProblem = ifNameProblem(ifName)?.rule;
  const ifError = ifProblem && {
    empty: "the interface name is empty",
    length: `interface name ${shown} is longer than ${MAX_IFNAME_BYTES} bytes`,
    dots: `interface name ${shown} is not allowed`,
    characters:
      `interface name ${shown} contains "/", ":", whitespace or a control character`,
  }[ifProblem];
  if (ifError) throw invalid(`${where}.interface`, ifError);
  return { name, interface: ifName };
}
