/**
 * The meta plugin's record of one container, `<cacheDir>/<containerId>.json`
 * (0600 in a 0700 dir, written atomically): what ADD is about to do, written
 * before the first delegate runs, and each delegate's state. DEL, CHECK and
 * GC work from it alone, so the backend is never needed after ADD.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import type { CniResult, JsonObject } from "../spec/types.ts";
import {
  ensurePrivateDir,
  readPrivateFile,
  removeFile,
  writeFileAtomic,
} from "../cache/atomic_write.ts";

/** The record's `kind`. */
export const RECORD_KIND = "cnishim-multinet/v1";

/** One delegate in the record. */
export interface RecordedDelegate {
  /** The network name (the backend's `type`). */
  netName: string;
  /** The interface in the pod. */
  ifName: string;
  /** Whether its result is the meta plugin's result. */
  master: boolean;
  /** The file its config came from. */
  confFile: string;
  /** The config exactly as sent. */
  config: JsonObject;
  /** `pending` until its ADD starts, `adding` while it runs, `added` after. */
  state: "pending" | "adding" | "added";
  /** Its ADD result, once added. */
  result?: CniResult;
}

/** The record of one container. */
export interface MetaRecord {
  /** {@link RECORD_KIND}. */
  kind: string;
  /** The container ID. */
  containerId: string;
  /** The netns of the ADD. */
  netns: string;
  /** The runtime's `CNI_IFNAME` (what GC's valid attachments name). */
  runtimeIfName: string;
  /** The meta network's name. */
  networkName: string;
  /** The pod, from `CNI_ARGS`. */
  podName: string;
  /** The pod's namespace, when given. */
  podNamespace?: string;
  /** `K8S_POD_INFRA_CONTAINER_ID`, when given. */
  infraContainerId?: string;
  /** The backend asked. */
  backend: string;
  /** The backend's request ID. */
  backendReqId?: string;
  /** When the ADD started. */
  createdAt: string;
  /** The delegates in ADD order. */
  delegates: RecordedDelegate[];
}

/** What reading a record found. */
export type RecordRead =
  | { kind: "missing" }
  | { kind: "corrupt"; path: string; reason: string }
  | { kind: "ok"; path: string; record: MetaRecord };

/** The record's path. */
export function recordPath(cacheDir: string, containerId: string): string {
  return joinPath(cacheDir, fileName(containerId));
}

function fileName(containerId: string): string {
  validateContainerId(containerId);
  return `${containerId}.json`;
}

/** Writes the record atomically. */
export async function writeRecord(
  cacheDir: string,
  record: MetaRecord,
): Promise<void> {
  await writeFileAtomic(
    cacheDir,
    fileName(record.containerId),
    JSON.stringify(record, null, 2) + "\n",
  );
}

/** Removes the record; a missing one is fine. */
export async function removeRecord(
  cacheDir: string,
  containerId: string,
): Promise<void> {
  await removeFile(cacheDir, fileName(containerId));
}

function decodeRecord(text: string, containerId: string): MetaRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const r = value as MetaRecord;
  if (!r || typeof r !== "object" || r.kind !== RECORD_KIND) {
    return `not a ${RECORD_KIND} record`;
  }
  if (r.containerId !== containerId) return "it names another container";
  if (
    !Array.isArray(r.delegates) ||
    !r.delegates.every((d) =>
      d && typeof d === "object" && typeof d.ifName === "string" &&
      typeof d.netName === "string" && d.config &&
      typeof d.config === "object"
    )
  ) return "its delegates are malformed";
  return r;
}

/** Reads a container's record. */
export async function readRecord(
  cacheDir: string,
  containerId: string,
): Promise<RecordRead> {
  const path = recordPath(cacheDir, containerId);
  const text = await readPrivateFile(cacheDir, fileName(containerId));
  if (text === undefined) return { kind: "missing" };
  const decoded = decodeRecord(text, containerId);
  return typeof decoded === "string"
    ? { kind: "corrupt", path, reason: decoded }
    : { kind: "ok", path, record: decoded };
}

/** Moves a corrupt record aside (`<cid>.json.corrupt`) so it never blocks DEL again. */
export async function quarantineRecord(path: string): Promise<string> {
  const target = `${path}.corrupt`;
  await Deno.rename(path, target);
  return target;
}

/** The container IDs that have a record. */
export async function listRecords(cacheDir: string): Promise<string[]> {
  const ids: string[] = [];
  if (!await ensurePrivateDir(cacheDir, "", false)) return ids;
  try {
    for await (const e of Deno.readDir(cacheDir)) {
      if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith(".")) {
        ids.push(e.name.slice(0, -".json".length));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return ids.sort();
}
