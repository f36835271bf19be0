/**
 * Serialisation between processes: one lock file per container (the spec
 * forbids parallel operations on one container), and a shared/exclusive
 * lock that keeps GC apart from every ADD and DEL.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { ensurePrivateDir } from "./atomic_write.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";

/** A held lock; disposing releases it. */
export interface HeldLock extends AsyncDisposable {
  /** Releases the lock. */
  release(): Promise<void>;
}

async function lockFile(path: string, exclusive: boolean): Promise<HeldLock> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot open lock file "${path}": ${(error as Error).message}`,
    );
  }
  await file.lock(exclusive);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await file.unlock().catch(() => {});
    file.close();
  };
  return { release, [Symbol.asyncDispose]: release };
}

/**
 * Takes the locks for an operation on one container: GC lock shared, then
 * the container's lock exclusive. Waits while another process holds them.
 */
export async function lockContainer(
  cacheDir: string,
  containerId: string,
): Promise<HeldLock> {
  validateContainerId(containerId);
  const dir = joinPath(cacheDir, "locks");
  await ensurePrivateDir(dir);
  const gc = await lockFile(joinPath(dir, "gc.lock"), false);
  try {
    const own = await lockFile(joinPath(dir, `${containerId}.lock`), true);
    const release = async () => {
      await own.release();
      await gc.release();
    };
    return { release, [Symbol.asyncDispose]: release };
  } catch (error) {
    await gc.release();
    throw error;
  }
}

/** Takes the GC lock exclusively: no ADD or DEL runs while it is held. */
export async function lockForGc(cacheDir: string): Promise<HeldLock> {
  const dir = joinPath(cacheDir, "locks");
  await ensurePrivateDir(dir);
  return await lockFile(joinPath(dir, "gc.lock"), true);
}
