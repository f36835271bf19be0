/**
 * The result cache on disk: `<cacheDir>/results/<network>-<cid>-<ifname>`
 * in libcni's `cniCacheV1` format.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import {
  type CacheEntry,
  cacheFileName,
  decodeCacheFile,
  type DecodedCacheFile,
  encodeCacheEntry,
} from "./cache_entry.ts";
import {
  ensurePrivateDir,
  readFileNoFollow,
  readPrivateFile,
  removeFile,
  writeFileAtomic,
} from "./atomic_write.ts";
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import {
  validateContainerId,
  validateIfName,
  validateNetworkName,
} from "../spec/identifiers.ts";

/** Identifies one attachment in the cache. */
export interface CacheKey {
  /** The network name. */
  networkName: string;
  /** The container ID. */
  containerId: string;
  /** The interface name. */
  ifName: string;
}

/** The path of an attachment's cache file. */
export function cacheFilePath(cacheDir: string, key: CacheKey): string {
  return joinPath(cacheDir, cacheFileRel(key));
}

// The path under the cache dir.
function cacheFileRel(key: CacheKey): string {
  return joinPath(
    "results",
    cacheFileName(key.networkName, key.containerId, key.ifName),
  );
}

/** Writes an entry atomically (0600 in a 0700 directory). */
export async function writeCacheEntry(
  cacheDir: string,
  entry: CacheEntry,
): Promise<void> {
  await writeFileAtomic(
    cacheDir,
    cacheFileRel(entry),
    encodeCacheEntry(entry),
  );
}

/**
 * Reads an attachment's cache file; `undefined` when there is none.
 *
 * @throws {CniError} code 6 when the file is corrupt, 5 when unreadable
 */
export async function readCacheEntry(
  cacheDir: string,
  key: CacheKey,
): Promise<DecodedCacheFile | undefined> {
  const path = cacheFilePath(cacheDir, key);
  const text = await readPrivateFile(cacheDir, cacheFileRel(key));
  if (text === undefined) return undefined;
  try {
    return decodeCacheFile(text);
  } catch (error) {
    throw new CniError(
      (error as CniError).code,
      `${errorText(error)} (file "${path}")`,
      { cause: error },
    );
  }
}

/** Deletes an attachment's cache file; a missing one is fine. */
export async function deleteCacheEntry(
  cacheDir: string,
  key: CacheKey,
): Promise<void> {
  await removeFile(cacheDir, cacheFileRel(key));
}

/**
 * Moves a corrupt cache file to `<cacheDir>/quarantine/` so that it stops
 * blocking DEL yet stays available for a post-mortem (libcni deletes it).
 * Returns the new path.
 */
export async function quarantineCacheEntry(
  cacheDir: string,
  key: CacheKey,
): Promise<string> {
  const from = cacheFilePath(cacheDir, key);
  const dir = (await ensurePrivateDir(cacheDir, "quarantine"))!;
  const to = joinPath(dir, `${from.split("/").pop()}.${Date.now()}`);
  if (!await ensurePrivateDir(cacheDir, "results", false)) return to;
  try {
    await Deno.rename(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      await removeFile(cacheDir, cacheFileRel(key));
    }
  }
  return to;
}

/**
 * Every readable entry, optionally of one container (libcni's
 * `GetCachedAttachments`): unreadable, corrupt and legacy files are skipped.
 */
export async function listCacheEntries(
  cacheDir: string,
  containerId?: string,
): Promise<CacheEntry[]> {
  return (await scanCacheEntries(cacheDir, containerId)).entries;
}

/** What one pass over the results directory found. */
export interface CacheScan {
  /** The readable entries, as {@link listCacheEntries} gives them. */
  entries: CacheEntry[];
  /**
   * With a container ID, the keys of its files that exist but cannot be
   * decoded or do not name their network and interface. Network and
   * interface come from the file name, so a DEL can still reach them with
   * today's config of that network; only a name that is this container's
   * one claim is listed (see {@link CacheScan.ambiguous}).
   */
  unreadable: CacheKey[];
  /**
   * With a container ID, the keys of its files written by libcni before
   * 0.8 (the bare result, no `kind`), named as `unreadable` ones are. libcni
   * reads them as the cached result; DEL and CHECK run with today's config
   * of that network.
   */
  legacy: CacheKey[];
  /**
   * With a container ID, the names of unreadable or legacy files that hold
   * `-<containerId>-` but are not its one claim: they also read as the
   * file of a container whose ID is not part of this one (with dashed IDs,
   * `n-x-y-eth0` is x's `y-eth0` and x-y's `eth0`: for x it is
   * ambiguous, for x-y it is its own). Left alone, as tearing one down could
   * be another pod's network.
   */
  ambiguous: string[];
}

/**
 * Every way a results file name reads as `<network>-<containerId>-<ifName>`
 * with a valid name in each part, the network one of `networks` when given.
 */
function cacheNameReadings(
  name: string,
  networks?: ReadonlySet<string>,
): CacheKey[] {
  const dashes: number[] = [];
  for (let i = name.indexOf("-"); i >= 0; i = name.indexOf("-", i + 1)) {
    dashes.push(i);
  }
  const readings: CacheKey[] = [];
  for (const [n, i] of dashes.entries()) {
    const networkName = name.slice(0, i);
    if (
      networks
        ? !networks.has(networkName)
        : !valid(validateNetworkName, networkName)
    ) {
      continue;
    }
    for (const j of dashes.slice(n + 1)) {
      const key = {
        networkName,
        containerId: name.slice(i + 1, j),
        ifName: name.slice(j + 1),
      };
      if (
        valid(validateContainerId, key.containerId) &&
        valid(validateIfName, key.ifName)
      ) readings.push(key);
    }
  }
  return readings;
}

// The reading of `containerId`, when it is the name's one claim: no other
// reading has an ID that is not part of this one. n-x-y-eth0 is then x-y's
// (n, eth0) and not x's (n, y-eth0), as x-y holds x; so a DEL of x leaves
// it alone and a file is claimed by one container at most, the one with
// the longest ID, however many read it.
function claimOf(
  readings: readonly CacheKey[],
  containerId: string,
): CacheKey | undefined {
  const ours = readings.filter((r) => r.containerId === containerId);
  if (ours.length !== 1) return undefined;
  const [key] = ours as [CacheKey];
  const from = key.networkName.length + 1;
  const to = from + containerId.length;
  return readings.every((r) => {
      const start = r.networkName.length + 1;
      return start >= from && start + r.containerId.length <= to;
    })
    ? key
    : undefined;
}

function valid(check: (name: string) => void, name: string): boolean {
  try {
    check(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the results directory once: the readable entries, optionally of
 * one container, and that container's unreadable files. `networks`, when
 * given, are the only network names a file name is read with.
 *
 * @throws {CniError} code 5 when the directory exists but cannot be listed
 */
export async function scanCacheEntries(
  cacheDir: string,
  containerId?: string,
  networks?: ReadonlySet<string>,
): Promise<CacheScan> {
  const dir = joinPath(cacheDir, "results");
  const scan: CacheScan = {
    entries: [],
    unreadable: [],
    legacy: [],
    ambiguous: [],
  };
  const names: string[] = [];
  if (!await ensurePrivateDir(cacheDir, "results", false)) return scan;
  try {
    for await (const e of Deno.readDir(dir)) {
      // Whatever the type: a FIFO, a directory or a symlink where an
      // entry belongs reads as unreadable, so DEL quarantines it.
      if (!e.name.startsWith(".")) names.push(e.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return scan;
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot list "${dir}": ${errorText(error)}`,
    );
  }
  names.sort();
  const infix = `-${containerId}-`;
  for (const name of names) {
    if (containerId && !name.includes(infix)) continue;
    const file = await readCacheFile(joinPath(dir, name), containerId);
    if (!containerId || file.kind === "entry" || file.kind === "other") {
      sortInto(scan, file);
      continue;
    }
    // Network and interface from the name, for a file that cannot say.
    const key = claimOf(cacheNameReadings(name, networks), containerId);
    if (key) sortInto(scan, file, key);
    else if (file.kind !== "absent") scan.ambiguous.push(name);
  }
  return scan;
}

/**
 * The files of `keys` (the attachments a pod record lists), read and
 * sorted as {@link scanCacheEntries} sorts what it finds, without listing
 * the results directory: that costs every pod as much as the node has
 * pods. A key without a file is left out.
 */
export async function readCacheEntries(
  cacheDir: string,
  keys: readonly CacheKey[],
): Promise<CacheScan> {
  const scan: CacheScan = {
    entries: [],
    unreadable: [],
    legacy: [],
    ambiguous: [],
  };
  if (!await ensurePrivateDir(cacheDir, "results", false)) return scan;
  const read = await Promise.all(
    keys.map((k) => readCacheFile(cacheFilePath(cacheDir, k), k.containerId)),
  );
  read.forEach((file, i) => sortInto(scan, file, keys[i]));
  return scan;
}

type CacheFile =
  | { kind: "absent" | "unreadable" | "legacy" | "other" }
  | { kind: "entry"; entry: CacheEntry };

// One results file as a scan sees it; "other" is another container's.
// The results directory is checked by the caller.
async function readCacheFile(
  path: string,
  containerId: string | undefined,
): Promise<CacheFile> {
  try {
    const text = await readFileNoFollow(path);
    if (text === undefined) return { kind: "absent" };
    const decoded = decodeCacheFile(text);
    if (decoded.kind !== "entry") return { kind: "legacy" };
    const { entry } = decoded;
    if (!entry.ifName || !entry.networkName) return { kind: "unreadable" };
    if (containerId && entry.containerId !== containerId) {
      return { kind: "other" };
    }
    return { kind: "entry", entry };
  } catch {
    // As libcni: a bad file is not an attachment; DEL may still reach it.
    return { kind: "unreadable" };
  }
}

function sortInto(scan: CacheScan, file: CacheFile, key?: CacheKey): void {
  if (file.kind === "entry") scan.entries.push(file.entry);
  else if (key && file.kind === "legacy") scan.legacy.push(key);
  else if (key && file.kind === "unreadable") scan.unreadable.push(key);
}
