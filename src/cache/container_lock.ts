/**
 * Serialisation between processes: one lock file per container (the spec
 * forbids parallel operations on one container), and a shared/exclusive
 * lock that keeps GC apart from every ADD and DEL.
 *
 * Layout: `locks/gc.lock` and `locks/containers/<id>.lock`. The container
 * locks have a directory of their own because a container ID is any
 * `[a-zA-Z0-9][a-zA-Z0-9_.-]*`: beside `gc.lock`, the ID `gc` named the GC
 * lock and its ADD deadlocked on itself. No ID holds a `/`, so none can
 * leave `containers/`, whatever names are added beside it later.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { ensurePrivateDir, fileKind } from "./atomic_write.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";

/** A held lock; disposing releases it. */
export interface HeldLock extends AsyncDisposable {
  /** Releases the lock. */
  release(): Promise<void>;
  /**
   * Unlinks the lock file on release (still holding it), for a container
   * that has nothing left: lock files must not pile up over a node's life.
   */
  removeOnRelease(): void;
  /**
   * The pid of a process that died while holding this container's lock:
   * it was in the middle of an operation, and the plugins it ran outlive
   * it and may still be running.
   */
  readonly deadHolder: number | undefined;
  /** Records that what {@link deadHolder} left has been dealt with. */
  settle(): Promise<void>;
}

const ENCODER = new TextEncoder();
const CONTAINERS = "containers";
const DECODER = new TextDecoder();

async function lockFile(
  path: string,
  exclusive: boolean,
  recordHolder = false,
): Promise<HeldLock> {
  for (;;) {
    const file = await openLockFile(path);
    if (!file) continue;
    await file.lock(exclusive);
    // The holder before us may have unlinked the file we waited on: a lock
    // on an unlinked inode excludes nobody, so take the one at the path.
    const [held, now] = await Promise.all([
      file.stat(),
      Deno.lstat(path).catch(() => undefined),
    ]);
    if (!now || now.ino !== held.ino || now.dev !== held.dev) {
      file.close();
      continue;
    }
    // A holder writes its pid into the file and empties it on release, so
    // a pid found here belongs to a holder that died mid-operation. It
    // stays until a caller settles it (one that only reads, like CHECK,
    // leaves it for the next ADD or DEL).
    let deadHolder: number | undefined;
    if (recordHolder) {
      const buf = new Uint8Array(32);
      const n = await file.read(buf).catch(() => undefined);
      const text = n ? DECODER.decode(buf.subarray(0, n)).trim() : "";
      if (/^[1-9]\d*$/.test(text)) deadHolder = Number(text);
      // EOF at once: the file is empty (the usual case) and at offset 0.
      else await writeHolder(file, String(Deno.pid), n === null);
    }
    let released = false;
    let remove = false;
    const release = async () => {
      if (released) return;
      released = true;
      if (remove) await Deno.remove(path).catch(() => {});
      else if (recordHolder && deadHolder === undefined) {
        await writeHolder(file, "");
      }
      await file.unlock().catch(() => {});
      file.close();
    };
    return {
      release,
      removeOnRelease: () => {
        remove = true;
      },
      get deadHolder() {
        return deadHolder;
      },
      settle: async () => {
        if (deadHolder === undefined || released) return;
        deadHolder = undefined;
        await writeHolder(file, String(Deno.pid));
      },
      [Symbol.asyncDispose]: release,
    };
  }
}

// Opens the regular file at `path`, creating it when missing, and never
// a FIFO (reading one would block for good), a directory or a symlink's
// target: those are refused with code 5. `undefined`: the file changed
// between the lstat and the open; look again.
async function openLockFile(path: string): Promise<Deno.FsFile | undefined> {
  const refuse = (why: string) =>
    new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot use lock file "${path}": ${why}`,
    );
  let found: Deno.FileInfo | undefined;
  try {
    found = await Deno.lstat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw refuse(errorText(error));
    }
  }
  if (found && !found.isFile) throw refuse(`it is ${fileKind(found)}`);
  let file: Deno.FsFile;
  try {
    // Missing: O_CREAT|O_EXCL, which no symlink satisfies. Present:
    // O_RDWR without O_CREAT; what was opened is checked below.
    file = await Deno.open(
      path,
      found
        ? { read: true, write: true }
        : { read: true, write: true, createNew: true, mode: 0o600 },
    );
  } catch (error) {
    if (
      error instanceof Deno.errors.AlreadyExists ||
      error instanceof Deno.errors.NotFound
    ) return undefined;
    throw refuse(errorText(error));
  }
  const opened = await file.stat();
  if (!opened.isFile) {
    file.close();
    throw refuse(`it is ${fileKind(opened)}`);
  }
  if (found && (found.ino !== opened.ino || found.dev !== opened.dev)) {
    file.close();
    return undefined;
  }
  return file;
}

// Best effort: the marker only decides whether to look for orphans.
// `empty`: the file is known empty and read to offset 0, so the text is
// written as it is.
async function writeHolder(
  file: Deno.FsFile,
  text: string,
  empty = false,
): Promise<void> {
  try {
    if (!empty) await file.truncate(0);
    if (!text) return;
    if (!empty) await file.seek(0, Deno.SeekMode.Start);
    await file.write(ENCODER.encode(text));
  } catch {
    // A read-only or full disk: nothing to record.
  }
}

/**
 * Where a container's lock file is: `locks/containers/`, a directory of
 * their own, so that no container ID (`gc` is a legal one) names the GC
 * lock.
 */
export function containerLockPath(
  cacheDir: string,
  containerId: string,
): string {
  return joinPath(cacheDir, "locks", CONTAINERS, `${containerId}.lock`);
}

/**
 * Takes the locks for an operation on one container: GC lock shared, then
 * the container's lock exclusive. Waits while another process holds them.
 * {@link HeldLock.deadHolder} tells whether the previous holder died
 * holding it.
 */
export async function lockContainer(
  cacheDir: string,
  containerId: string,
): Promise<HeldLock> {
  validateContainerId(containerId);
  const dir = (await ensurePrivateDir(cacheDir, `locks/${CONTAINERS}`))!;
  const top = joinPath(cacheDir, "locks");
  const gc = await lockFile(joinPath(top, "gc.lock"), false);
  try {
    const own = await lockFile(
      joinPath(dir, `${containerId}.lock`),
      true,
      true,
    );
    const release = async () => {
      await own.release();
      await gc.release();
    };
    return {
      release,
      removeOnRelease: () => own.removeOnRelease(),
      get deadHolder() {
        return own.deadHolder;
      },
      settle: () => own.settle(),
      [Symbol.asyncDispose]: release,
    };
  } catch (error) {
    await gc.release();
    throw error;
  }
}

/** Takes the GC lock exclusively: no ADD or DEL runs while it is held. */
export async function lockForGc(cacheDir: string): Promise<HeldLock> {
  const dir = (await ensurePrivateDir(cacheDir, "locks"))!;
  return await lockFile(joinPath(dir, "gc.lock"), true);
}

/**
 * Removes the lock files of containers not in `keep`, and the container
 * locks of the previous layout (`locks/<id>.lock`, only ever lock files).
 * Only while holding {@link lockForGc}: every ADD and DEL takes the GC lock
 * shared before it opens a container's lock file, so none is open now.
 */
export async function sweepContainerLocks(
  cacheDir: string,
  keep: ReadonlySet<string>,
): Promise<void> {
  const dir = await ensurePrivateDir(cacheDir, "locks", false);
  if (!dir) return;
  for (const name of await lockNames(dir)) {
    if (name !== "gc.lock") await removeLock(joinPath(dir, name));
  }
  const own = await ensurePrivateDir(cacheDir, `locks/${CONTAINERS}`, false);
  for (const name of own ? await lockNames(own) : []) {
    if (!keep.has(name.slice(0, -".lock".length))) {
      await removeLock(joinPath(own!, name));
    }
  }
}

async function lockNames(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir)))
      .filter((e) => !e.isDirectory && e.name.endsWith(".lock"))
      .map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function removeLock(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}
