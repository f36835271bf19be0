/**
 * The pod record: which attachments a setup is about to make, in order,
 * written beside its first plugins. Teardown replays it in reverse from the
 * cache entries of those attachments; a pod without a readable record is
 * torn down from whatever the results directory holds for it.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import type { CniArg, JsonObject } from "../spec/types.ts";
import {
  ensurePrivateDir,
  readPrivateFile,
  removeFile,
  writeFileAtomic,
} from "../cache/atomic_write.ts";
import {
  type CacheKey,
  type CacheScan,
  readCacheEntries,
  scanCacheEntries,
} from "../cache/result_cache.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";

/** One attachment of a pod. */
export interface Attachment {
  /** The network name. */
  network: string;
  /** The interface name in the pod. */
  ifName: string;
}

/** What setup recorded. */
export interface PodRecord {
  /** The container ID. */
  containerId: string;
  /** The netns path at setup. */
  netns: string;
  /** Attachments in setup order (loopback first). */
  attachments: Attachment[];
  /**
   * `CNI_ARGS` of the setup: with the capability args, what a DEL needs
   * when an attachment's cache entry is unreadable (portmap, for one,
   * removes its rules only when told the port mappings again).
   */
  args?: CniArg[];
  /** Capability args of the setup. */
  capabilityArgs?: JsonObject;
}

const PODS = "cnishim/pods";

/** The directory of the pod records. */
export function podRecordDir(cacheDir: string): string {
  return joinPath(cacheDir, PODS);
}

// The path under the cache dir.
function recordPath(containerId: string): string {
  return joinPath(PODS, `${containerId}.json`);
}

/**
 * Writes the record atomically, without an fsync of its own: the one
 * durable write-ahead record of an attachment is its cache entry, fsync'd
 * by the engine before the network's first plugin runs, and teardown works
 * from the entries alone. A record a power loss left missing or empty
 * reads as absent, which is what a crash before the write leaves too.
 */
export async function writePodRecord(
  cacheDir: string,
  record: PodRecord,
): Promise<void> {
  await writeFileAtomic(
    cacheDir,
    recordPath(record.containerId),
    JSON.stringify(record),
    { durable: false },
  );
}

/** Reads the record; `undefined` when missing or unreadable. */
export async function readPodRecord(
  cacheDir: string,
  containerId: string,
): Promise<PodRecord | undefined> {
  try {
    const text = await readPrivateFile(cacheDir, recordPath(containerId));
    if (text === undefined) return undefined;
    const value = tryParseJson(text);
    if (!isJsonObject(value) || !Array.isArray(value.attachments)) {
      return undefined;
    }
    return value as unknown as PodRecord;
  } catch {
    return undefined;
  }
}

/** Removes the record. */
export async function removePodRecord(
  cacheDir: string,
  containerId: string,
): Promise<void> {
  await removeFile(cacheDir, recordPath(containerId));
}

/** Container IDs that have a record. */
export async function listPodRecords(cacheDir: string): Promise<string[]> {
  const ids: string[] = [];
  const dir = await ensurePrivateDir(cacheDir, PODS, false);
  if (!dir) return ids;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".json")) ids.push(e.name.slice(0, -5));
    }
  } catch {
    // No records yet.
  }
  return ids.sort();
}

/** The cache keys of a record's attachments. */
export function recordedKeys(
  containerId: string,
  attachments: readonly Attachment[],
): CacheKey[] {
  return attachments.map((a) => ({
    networkName: a.network,
    containerId,
    ifName: a.ifName,
  }));
}

/**
 * A container's record and cache files. With a record, the files of the
 * attachments it lists, read at their names: the setup that wrote it made
 * no others. Without one (a setup older than records, or one a crash or
 * power loss left unrecorded), a scan of the results directory, which
 * costs as much as the node has pods; `networks` then gives the network
 * names a file that cannot name its attachment is read with.
 */
export async function readPod(
  cacheDir: string,
  containerId: string,
  networks?: () => Promise<ReadonlySet<string> | undefined>,
): Promise<{ record?: PodRecord; scan: CacheScan }> {
  const record = await readPodRecord(cacheDir, containerId);
  if (!record) {
    // File names are read with today's network names only, when given.
    const names = await networks?.();
    return { scan: await scanCacheEntries(cacheDir, containerId, names) };
  }
  const keys = recordedKeys(containerId, record.attachments);
  return { record, scan: await readCacheEntries(cacheDir, keys) };
}
