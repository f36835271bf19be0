/**
 * `cnishim hook`: an OCI runtime hook. runc/crun pass the container state
 * on stdin; `createRuntime`/`prestart` (status creating/created, pid set)
 * adds the pod, `poststop` (status stopped) deletes it.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../../spec/errors.ts";
import { isJsonObject, parseJson } from "../../spec/json.ts";
import type { CommandContext, CommandOutput } from "../context.ts";
import { expectArgs } from "../context.ts";
import { addPod } from "./add.ts";
import { podInputs } from "../pod_inputs.ts";
import { delPod } from "./del.ts";

/** Annotations the hook reads besides the network ones. */
export const HOOK_ANNOTATIONS = {
  podName: ["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"],
  podNamespace: [
    "io.kubernetes.cri.sandbox-namespace",
    "io.kubernetes.pod.namespace",
  ],
  podUid: ["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"],
  portMappings: "cnishim.io/port-mappings",
  ifName: "cnishim.io/ifname",
} as const;

interface OciState {
  id: string;
  status: string;
  pid?: number;
  annotations: Record<string, string>;
}

/** Runs the hook for the state on stdin. */
export async function runHook(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "hook");
  const state = parseOciState(await ctx.io.readStdin());
  const ann = state.annotations;
  const first = (keys: readonly string[]) =>
    keys.map((k) => ann[k]).find((v) => v);
  if (state.status === "stopped") {
    // The process is gone; its /proc path may already name another one.
    return await delPod(ctx, state.id, "");
  }
  if (state.status !== "creating" && state.status !== "created") {
    throw malformed(
      `"status" is "${state.status}": the hook runs on createRuntime, prestart (creating, created) or poststop (stopped)`,
    );
  }
  if (!state.pid) {
    throw malformed(
      `"pid" is ${
        state.pid === 0 ? "0" : "missing"
      } on a "${state.status}" state: cannot find the container's network namespace`,
    );
  }
  const netns = `/proc/${state.pid}/ns/net`;
  // The annotations stand for the flags of `cnishim add`.
  const flags: Record<string, string | undefined> = {
    "pod-name": first(HOOK_ANNOTATIONS.podName),
    "pod-namespace": first(HOOK_ANNOTATIONS.podNamespace),
    "pod-uid": first(HOOK_ANNOTATIONS.podUid),
    "port-mappings": ann[HOOK_ANNOTATIONS.portMappings],
  };
  const inputs = podInputs((name) => flags[name], ann);
  return await addPod(
    ctx,
    state.id,
    netns,
    ann[HOOK_ANNOTATIONS.ifName],
    inputs,
  );
}

/** Decodes and checks an OCI state document. */
function parseOciState(text: string): OciState {
  const v = parseJson(text, "Cannot decode the OCI state on stdin");
  if (!isJsonObject(v)) throw malformed("not a JSON object");
  if (typeof v.id !== "string" || v.id === "") {
    throw malformed('"id" must be a non-empty string');
  }
  if (typeof v.status !== "string") {
    throw malformed('"status" must be a string');
  }
  // 0 is what the OCI runtime spec allows where there is no process (the
  // pid is only meaningful while running): a poststop must still tear down.
  if (
    v.pid !== undefined && (!Number.isInteger(v.pid) || (v.pid as number) < 0)
  ) {
    throw malformed(
      `"pid" must be a non-negative integer, not ${JSON.stringify(v.pid)}`,
    );
  }
  const ann = v.annotations ?? {};
  if (
    !isJsonObject(ann) ||
    !Object.values(ann).every((x) => typeof x === "string")
  ) {
    throw malformed('"annotations" must be an object of strings');
  }
  return {
    id: v.id,
    status: v.status,
    ...(v.pid !== undefined ? { pid: v.pid as number } : {}),
    annotations: ann as Record<string, string>,
  };
}

function malformed(why: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidNetworkConfig,
    `Invalid OCI state on stdin: ${why}`,
  );
}
