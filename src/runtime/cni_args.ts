// Pure: no Deno API.
/**
 * `CNI_ARGS` for a pod: the kubelet-era keys in ocicni's fixed order, and the
 * `K=V;K=V` text of the `--args` flag.
 *
 * CNI_ARGS has no quoting: plugins (`types.LoadArgs`) split on `;`, then each
 * pair on `=`, and want exactly two parts. Anything that would not survive
 * that round trip is rejected here, before it reaches a plugin.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniArg } from "../spec/types.ts";
import { hasControlCharacter } from "../spec/identifiers.ts";

/** What is known about the pod; an absent or empty field is left out of CNI_ARGS. */
export interface PodIdentity {
  /** `K8S_POD_NAME`. */
  name?: string | undefined;
  /** `K8S_POD_NAMESPACE`. */
  namespace?: string | undefined;
  /** `K8S_POD_UID`. */
  uid?: string | undefined;
}

const KEY = /^[A-Za-z0-9_.\-]+$/;

/**
 * Builds a pod's CNI_ARGS in ocicni's fixed order: `IgnoreUnknown=1`,
 * `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_INFRA_CONTAINER_ID`,
 * `K8S_POD_UID`, then `extra`.
 *
 * Each `K8S_` key is sent only when its value is known;
 * `K8S_POD_INFRA_CONTAINER_ID` (the container ID) is sent whenever the name
 * or the namespace is. `extra` is appended as is: a key that already exists
 * (say `K8S_POD_NAME`) does not replace the earlier pair, both are sent, and
 * which one a plugin sees is up to the plugin (`LoadArgs` keeps the last).
 *
 * @param pod The pod's name, namespace and UID.
 * @param containerId The sandbox (infra) container ID.
 * @param extra Pairs to append, e.g. from {@link parseCniArgs}.
 * @returns The pairs, in order.
 * @throws {CniError} code 4 when a value cannot be represented in CNI_ARGS.
 *
 * @example Usage
 * ```ts
 * import { buildPodCniArgs } from "./cni_args.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(buildPodCniArgs({ name: "web-0", namespace: "prod" }, "c1", [["A", "1"]]), [
 *   ["IgnoreUnknown", "1"],
 *   ["K8S_POD_NAMESPACE", "prod"],
 *   ["K8S_POD_NAME", "web-0"],
 *   ["K8S_POD_INFRA_CONTAINER_ID", "c1"],
 *   ["A", "1"],
 * ]);
 * ```
 */
export function buildPodCniArgs(
  pod: PodIdentity,
  containerId: string,
  extra: readonly CniArg[] = [],
): CniArg[] {
  const args: CniArg[] = [["IgnoreUnknown", "1"]];
  if (pod.namespace) args.push(["K8S_POD_NAMESPACE", pod.namespace]);
  if (pod.name) args.push(["K8S_POD_NAME", pod.name]);
  if (pod.name || pod.namespace) {
    args.push(["K8S_POD_INFRA_CONTAINER_ID", containerId]);
  }
  if (pod.uid) args.push(["K8S_POD_UID", pod.uid]);
  validateCniArgs(args);
  validateCniArgs(extra);
  return [...args, ...extra];
}

/**
 * Parses `K=V;K=V` (the `--args` flag) into pairs. The empty string gives no
 * pairs; an empty pair (`A=1;;B=2`, or a trailing `;`) is an error.
 *
 * @param text The flag's value.
 * @param source What to name in messages.
 * @returns The pairs, in order.
 * @throws {CniError} code 4 naming `source`, the pair and the rule it breaks.
 *
 * @example Usage
 * ```ts
 * import { parseCniArgs } from "./cni_args.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseCniArgs("IP=10.1.0.5;MAC="), [["IP", "10.1.0.5"], ["MAC", ""]]);
 * throws(() => parseCniArgs("A=b=c"), /--args/);
 * ```
 */
export function parseCniArgs(text: string, source = "--args"): CniArg[] {
  if (text === "") return [];
  return text.split(";").map((pair, i): CniArg => {
    const where = `${source} pair ${i + 1} ${JSON.stringify(pair)}`;
    if (pair === "") throw invalid(`${where}: the pair is empty (a stray ";")`);
    const eq = pair.indexOf("=");
    if (eq < 0) throw invalid(`${where}: expected KEY=VALUE`);
    if (pair.indexOf("=", eq + 1) >= 0) {
      throw invalid(
        `${where}: a value containing "=" cannot be represented in CNI_ARGS (plugins split each pair on "=" and want exactly two parts)`,
      );
    }
    const arg: CniArg = [pair.slice(0, eq), pair.slice(eq + 1)];
    check(arg, where);
    return arg;
  });
}

/**
 * Checks pairs against the CNI_ARGS rules: key non-empty and matching
 * `^[A-Za-z0-9_.-]+$`, value free of `;`, `=` and control characters.
 *
 * @param args The pairs.
 * @param source What to name in messages.
 * @throws {CniError} code 4 naming the key and the rule it breaks.
 *
 * @example Usage
 * ```ts
 * import { validateCniArgs } from "./cni_args.ts";
 * import { throws } from "node:assert/strict";
 * validateCniArgs([["K8S_POD_NAME", "web-0"]]);
 * throws(() => validateCniArgs([["K8S_POD_NAME", "a;b"]]), /K8S_POD_NAME/);
 * ```
 */
export function validateCniArgs(
  args: readonly CniArg[],
  source = "CNI_ARGS",
): void {
  args.forEach((arg, i) => check(arg, `${source} pair ${i + 1}`));
}

function check([key, value]: CniArg, where: string): void {
  if (key === "") throw invalid(`${where}: the key is empty`);
  if (!KEY.test(key)) {
    throw invalid(
      `${where}: key ${
        JSON.stringify(key)
      } has characters outside [A-Za-z0-9_.-]`,
    );
  }
  const bad = value.includes(";")
    ? `";" (it separates pairs in CNI_ARGS)`
    : value.includes("=")
    ? `"=" (plugins split each pair on "=" and want exactly two parts)`
    : hasControlCharacter(value)
    ? "a control character"
    : undefined;
  if (bad) {
    throw invalid(
      `${where}: the value ${JSON.stringify(value)} of ${
        JSON.stringify(key)
      } contains ${bad}`,
    );
  }
}

function invalid(message: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidEnvironmentVariables,
    `Invalid ${message}`,
  );
}
