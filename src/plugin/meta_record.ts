/**
 * The meta plugin's record of one attachment,
 * `<cacheDir>/<network>-<containerId>-<ifName>.json` (0600 in a 0700 dir,
 * written atomically; `<containerId>.json` before, still read): what ADD is about to do, written
 * before the first delegate runs, and each delegate's state. DEL, CHECK and
 * GC work from it alone, so the backend is never needed after ADD.
 *
 * @module
 */
import { dirName, joinPath } from "../spec/posix_path.ts";
import {
  validateContainerId,
  validateIfName,
  validateNetworkName,
} from "../spec/identifiers.ts";
import type { CniResult, JsonObject } from "../spec/types.ts";
import {
  ensurePrivateDir,
  readPrivateFile,
  removeFile,
  writeFileAtomic,
} from "../cache/atomic_write.ts";
import { errorText } from "../spec/errors.ts";
import { isJsonObject, parseJson, tryParseJson } from "../spec/json.ts";

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

/**
 * What a record is of: one attachment of the meta network, as the spec keys
 * a plugin's state (network name, container ID, and the runtime's
 * `CNI_IFNAME`), so that two meta networks on one pod keep two records.
 */
export interface RecordKey {
  /** The meta network's name. */
  networkName: string;
  /** The container ID. */
  containerId: string;
  /** The runtime's `CNI_IFNAME`. */
  ifName: string;
}

/** The record's path, `<cacheDir>/<network>-<containerId>-<ifName>.json`. */
export function recordPath(cacheDir: string, key: RecordKey): string {
  validateContainerId(key.containerId);
  validateNetworkName(key.networkName);
  validateIfName(key.ifName);
  return joinPath(
    cacheDir,
    `${key.networkName}-${key.containerId}-${key.ifName}.json`,
  );
}

/**
 * Where records were written before they were keyed by attachment,
 * `<cacheDir>/<containerId>.json`: read (for DEL, CHECK, GC and a retried
 * ADD) when it is of the same network and interface, never written.
 */
function legacyRecordPath(
  cacheDir: string,
  containerId: string,
): string {
  validateContainerId(containerId);
  return joinPath(cacheDir, `${containerId}.json`);
}

// The cache's file helpers take the directory they check and a name in it;
// every record file lies directly in the cache dir.
function inDir(path: string): [string, string] {
  const dir = dirName(path);
  return [dir, path.slice(dir.length + 1)];
}

/** The key of a record. */
export function recordKey(record: MetaRecord): RecordKey {
  return {
    networkName: record.networkName,
    containerId: record.containerId,
    ifName: record.runtimeIfName,
  };
}

/** Writes the record atomically, at its key's path. */
export async function writeRecord(
  cacheDir: string,
  record: MetaRecord,
): Promise<void> {
  await writeFileAtomic(
    ...inDir(recordPath(cacheDir, recordKey(record))),
    JSON.stringify(record, null, 2) + "\n",
  );
}

/** Removes a record file (`RecordRead.path`); a missing one is fine. */
export async function removeRecord(path: string): Promise<void> {
  await removeFile(...inDir(path));
}

function decodeRecord(text: string, containerId: string): MetaRecord | string {
  let value: unknown;
  try {
    value = parseJson(text, (why) => new Error(`not JSON (${why})`));
  } catch (error) {
    return errorText(error);
  }
  const r = value as MetaRecord;
  if (!isJsonObject(r) || r.kind !== RECORD_KIND) {
    return `not a ${RECORD_KIND} record`;
  }
  if (r.containerId !== containerId) return "it names another container";
  if (
    !Array.isArray(r.delegates) ||
    !r.delegates.every((d) =>
      isJsonObject(d) && typeof d.ifName === "string" &&
      typeof d.netName === "string" && d.config &&
      typeof d.config === "object"
    )
  ) return "its delegates are malformed";
  return r;
}

/**
 * Reads an attachment's record: at its path, else at the legacy
 * `<containerId>.json` when that one is of the same network and interface
 * (another network's is not this attachment's, and stays).
 */
export async function readRecord(
  cacheDir: string,
  key: RecordKey,
): Promise<RecordRead> {
  const read = await readRecordFile(recordPath(cacheDir, key), key.containerId);
  if (read.kind !== "missing") return read;
  const legacy = await readRecordFile(
    legacyRecordPath(cacheDir, key.containerId),
    key.containerId,
  );
  if (legacy.kind !== "ok") return legacy.kind === "corrupt" ? legacy : read;
  const r = legacy.record;
  return r.networkName === key.networkName && r.runtimeIfName === key.ifName
    ? legacy
    : read;
}

/** Reads one record file; `containerId` is what it must name. */
async function readRecordFile(
  path: string,
  containerId: string,
): Promise<RecordRead> {
  const text = await readPrivateFile(...inDir(path));
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

/** The record files of the cache dir, keyed and legacy names alike. */
export async function listRecords(cacheDir: string): Promise<string[]> {
  const paths: string[] = [];
  if (!await ensurePrivateDir(cacheDir, "", false)) return paths;
  try {
    for await (const e of Deno.readDir(cacheDir)) {
      if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith(".")) {
        paths.push(joinPath(cacheDir, e.name));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return paths.sort();
}

/**
 * Reads a file {@link listRecords} found: a keyed record must name the
 * attachment its file name says, a legacy one the container.
 */
export async function readListedRecord(path: string): Promise<RecordRead> {
  const text = await readPrivateFile(...inDir(path));
  if (text === undefined) return { kind: "missing" };
  const base = path.slice(dirName(path).length + 1, -".json".length);
  let named = base;
  // Not JSON: decodeRecord says why.
  const r = tryParseJson(text);
  if (
    isJsonObject(r) &&
    `${r.networkName}-${r.containerId}-${r.runtimeIfName}` === base
  ) {
    named = String(r.containerId);
  }
  const decoded = decodeRecord(text, named);
  return typeof decoded === "string"
    ? { kind: "corrupt", path, reason: decoded }
    : { kind: "ok", path, record: decoded };
}
