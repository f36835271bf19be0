/**
 * The temp files of interrupted atomic writes (`.<name>.<uuid>.tmp`, see
 * `writeFileAtomic`): a writer killed between creating one and renaming it
 * leaves it behind, and nothing else ever removes it. Which ones are safe
 * to remove is the caller's to say (a container's own under its lock, any
 * under the GC lock, or only old ones).
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { containerLockPath } from "./container_lock.ts";

const TEMP_NAME =
  /^\.(.+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The file a temp file was to become (its name in the same dir), if it is one. */
function tempFileTarget(name: string): string | undefined {
  return TEMP_NAME.exec(name)?.[1];
}

/** Which temp files of a directory {@link sweepTempFiles} removes. */
export interface TempSweep {
  /** Only those whose target this accepts. */
  owned?: (target: string) => boolean | Promise<boolean>;
  /** Only those not modified for this long (ms). @default {0} */
  minAgeMs?: number;
}

/**
 * Removes the temp files of `dir` that `sweep` selects; returns their names.
 * A missing dir, and a file that went meanwhile, are fine.
 */
export async function sweepTempFiles(
  dir: string,
  sweep: TempSweep = {},
): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && tempFileTarget(e.name) !== undefined) names.push(e.name);
    }
  } catch {
    return removed; // no dir, or one that cannot be listed: nothing to do
  }
  const now = Date.now();
  for (const name of names.sort()) {
    const path = joinPath(dir, name);
    if (sweep.owned && !await sweep.owned(tempFileTarget(name)!)) continue;
    if (sweep.minAgeMs) {
      const info = await Deno.lstat(path).catch(() => undefined);
      const mtime = info?.mtime?.getTime();
      if (mtime === undefined || now - mtime < sweep.minAgeMs) continue;
    }
    try {
      await Deno.remove(path);
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: left for the next sweep.
    }
  }
  return removed;
}

/**
 * Whether a results file name `<network>-<containerId>-<ifName>` is surely
 * `containerId`'s. The name is ambiguous when a network name holds
 * `-<id>-` or an ID ends in `-<id>`: then it is taken as this container's
 * only when no other container it could belong to has a lock file. A
 * writer holds its container's lock file for as long as it writes, so a
 * temp file whose every other possible owner has none was left by this
 * container's writer, or by one that is dead.
 */
export async function ownedCacheName(
  cacheDir: string,
  name: string,
  containerId: string,
): Promise<boolean> {
  const infix = `-${containerId}-`;
  if (name.indexOf(infix, 1) < 0) return false;
  const dashes = [...name].flatMap((c, i) => (c === "-" ? [i] : []));
  const others = new Set<string>();
  for (const [k, i] of dashes.entries()) {
    for (const j of dashes.slice(k + 1)) {
      const id = name.slice(i + 1, j);
      if (id !== containerId && isContainerId(id)) others.add(id);
    }
  }
  for (const id of others) {
    const lock = containerLockPath(cacheDir, id);
    if (await Deno.lstat(lock).then(() => true, () => false)) return false;
  }
  return true;
}

function isContainerId(id: string): boolean {
  try {
    validateContainerId(id);
    return true;
  } catch {
    return false;
  }
}
