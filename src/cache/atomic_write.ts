/**
 * Private-file I/O for the cache: directories 0700, files 0600 created with
 * those modes, writes atomic (temp file, fsync, rename in the same
 * directory), and no symlink followed on the way.
 *
 * @module
 */
import { dirName, joinPath } from "../spec/posix_path.ts";
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";

const ENCODER = new TextEncoder();

/**
 * Creates `dir` (and missing parents) with mode 0700 and refuses a
 * directory that is a symlink, so a planted link cannot redirect writes.
 *
 * @throws {CniError} code 5
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    // It exists on every write but a node's first: one lstat then.
    const info = await Deno.lstat(dir).catch(async (error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      return await Deno.lstat(dir);
    });
    if (!info.isDirectory) {
      throw new CniError(
        CNI_ERROR_CODES.ioFailure,
        `Cannot use "${dir}" as a cache directory: it is ${
          info.isSymlink ? "a symlink" : "not a directory"
        }`,
      );
    }
  } catch (error) {
    if (error instanceof CniError) throw error;
    throw ioError(`create directory "${dir}"`, error);
  }
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * fdatasync before the rename, so that the file survives a power loss
   * with its content. Without it the write is still atomic against a
   * crash of the process (the rename replaces all or nothing); after a
   * power loss the file may be missing or empty, which a reader must take
   * as absent. @default {true}
   */
  durable?: boolean;
}

/**
 * Writes `text` to `path` atomically with mode 0600. A symlink at `path`
 * is replaced, never followed.
 *
 * @throws {CniError} code 5
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirName(path);
  await ensurePrivateDir(dir);
  const tmp = joinPath(
    dir,
    `.${path.slice(dir.length + 1)}.${crypto.randomUUID()}.tmp`,
  );
  try {
    // createNew = O_EXCL: fails on anything already there, links included.
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      const data = ENCODER.encode(text);
      let written = 0;
      while (written < data.length) {
        written += await file.write(data.subarray(written));
      }
      if (options.durable ?? true) await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw ioError(`write "${path}"`, error);
  }
}

/**
 * Reads a regular file; `undefined` when it does not exist. A symlink is
 * refused rather than followed.
 *
 * @throws {CniError} code 5
 */
export async function readPrivateFile(
  path: string,
): Promise<string | undefined> {
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile) {
      throw new CniError(
        CNI_ERROR_CODES.ioFailure,
        `Cannot read "${path}": it is ${fileKind(info)}`,
      );
    }
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof CniError) throw error;
    throw ioError(`read "${path}"`, error);
  }
}

/** Removes a file; a missing one is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw ioError(`remove "${path}"`, error);
    }
  }
}

/** What a non-regular file is, for an error message. */
export function fileKind(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symlink";
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a regular file";
}

function ioError(action: string, error: unknown): CniError {
  return new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot ${action}: ${(error as Error).message}`,
    { cause: error },
  );
}
