/**
 * Private-file I/O for the cache: directories 0700, files 0600 created with
 * those modes, writes atomic (temp file, fsync, rename in the same
 * directory), and no symlink followed on the way.
 *
 * @module
 */
import { dirName, joinPath } from "../spec/posix_path.ts";
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";

const ENCODER = new TextEncoder();

/**
 * The directory `sub` (`/`-separated, "" for the cache dir itself) under
 * the cache dir `root`, checked on every call: one lstat per component
 * (the cache dir itself is stat'd, as an operator may link it elsewhere).
 * Each must be a directory, not a symlink, owned by the effective user and
 * not writable by group or other: another user who can write one could
 * plant a result that root then feeds to a plugin, or a link that sends
 * root's writes elsewhere. Missing ones are created 0700 when `create`;
 * otherwise `undefined` says one is missing.
 *
 * @throws {CniError} code 5 naming the path, and its owner and mode
 */
export async function ensurePrivateDir(
  root: string,
  sub = "",
  create = true,
): Promise<string | undefined> {
  let dir = root;
  const parts = sub.split("/").filter((p) => p !== "" && p !== ".");
  for (let i = -1; i < parts.length; i++) {
    if (i >= 0) dir = joinPath(dir, parts[i]!);
    let info: Deno.FileInfo;
    try {
      info = await (i < 0 ? Deno.stat(dir) : Deno.lstat(dir));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw ioError(`use "${dir}" as a cache directory`, error);
      }
      if (!create) return undefined;
      try {
        // The cache dir may lack parents on a node's first write.
        // A parallel write of the same pod may make it first.
        await Deno.mkdir(dir, { recursive: i < 0, mode: 0o700 }).catch(
          (error) => {
            if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
          },
        );
        info = await Deno.lstat(dir);
      } catch (error) {
        throw ioError(`create directory "${dir}"`, error);
      }
    }
    checkDir(dir, info);
  }
  return dir;
}

// The real uid, which is the effective one but under setuid (which cnishim
// is not). A library user without --allow-sys gets no owner check.
let uid: number | null | undefined;
function ownUid(): number | null {
  try {
    return uid ??= Deno.uid();
  } catch {
    return uid = null;
  }
}

function checkDir(dir: string, info: Deno.FileInfo): void {
  const euid = ownUid();
  const mode = (info.mode ?? 0) & 0o7777;
  const why = !info.isDirectory
    ? `it is ${fileKind(info)}`
    : euid !== null && info.uid !== euid
    ? `it is owned by uid ${info.uid}, not ${euid}`
    : mode & 0o022
    ? "it is writable by group or other"
    : undefined;
  if (!why) return;
  throw new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot use "${dir}" as a cache directory: ${why} (owner uid ${info.uid}, mode ${
      mode.toString(8).padStart(4, "0")
    }); it must be a directory of uid ${euid} that no other user can write`,
  );
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
 * Writes `text` to `rel` under the cache dir `root` atomically with mode
 * 0600, in directories checked by {@link ensurePrivateDir}. A symlink at
 * the path is replaced, never followed.
 *
 * @throws {CniError} code 5
 */
export async function writeFileAtomic(
  root: string,
  rel: string,
  text: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = (await ensurePrivateDir(root, dirName(rel)))!;
  const path = joinPath(root, rel);
  const tmp = joinPath(
    dir,
    `.${path.slice(dir.length + 1)}.${crypto.randomUUID()}.tmp`,
  );
  await replaceFile(path, tmp, ENCODER.encode(text), {
    durable: options.durable ?? true,
  });
}

/** Options of {@link replaceFile}. */
export interface ReplaceFileOptions {
  /** The file's mode once written. @default {0o600} */
  mode?: number;
  /** Sync the data before the rename. @default {true} */
  durable?: boolean;
  /** Sync the directory after the rename, so the rename itself survives a power loss. @default {false} */
  syncDir?: boolean;
}

/**
 * The one way cnishim replaces a file whole: `data` (bytes, or an open
 * file read to its end) goes to the temp file `tmp` beside `path`
 * (created exclusively, so a link planted there is refused, with mode
 * 0600 until it is complete), is synced, given its mode and renamed over
 * `path`: a reader sees the old file or the new one, never half. The temp
 * file is removed on failure. Callers choose `tmp`'s name (their sweeps
 * look for it) and check the directory.
 *
 * @throws {CniError} code 5 naming `path`
 */
export async function replaceFile(
  path: string,
  tmp: string,
  data: Uint8Array | Deno.FsFile,
  options: ReplaceFileOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  try {
    // createNew = O_EXCL: fails on anything already there, links included.
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      if (data instanceof Uint8Array) {
        let off = 0;
        while (off < data.length) off += await file.write(data.subarray(off));
      } else {
        const buf = new Uint8Array(1 << 20);
        for (;;) {
          const n = await data.read(buf);
          if (n === null) break;
          let off = 0;
          while (off < n) off += await file.write(buf.subarray(off, n));
        }
      }
      if (options.durable ?? true) await file.syncData();
      if (mode !== 0o600) await Deno.chmod(tmp, mode);
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw ioError(`write "${path}"`, error);
  }
  if (options.syncDir) {
    try {
      using d = await Deno.open(dirName(path) || "/");
      await d.syncData();
    } catch { /* a directory that cannot be opened still has the rename */ }
  }
}

/**
 * Reads the regular file `rel` under the cache dir `root`; `undefined`
 * when it or its directory does not exist. The directories are checked by
 * {@link ensurePrivateDir}; a symlink, FIFO or directory is refused, never
 * opened.
 *
 * @throws {CniError} code 5
 */
export async function readPrivateFile(
  root: string,
  rel: string,
): Promise<string | undefined> {
  if (!await ensurePrivateDir(root, dirName(rel), false)) return undefined;
  return await readFileNoFollow(joinPath(root, rel));
}

/**
 * Reads the regular file at `path`, in a directory the caller checked with
 * {@link ensurePrivateDir}; `undefined` when it does not exist. A symlink,
 * FIFO or directory is refused, never opened.
 *
 * @throws {CniError} code 5
 */
export async function readFileNoFollow(
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

/**
 * Removes the file `rel` under the cache dir `root`, its directories
 * checked as {@link ensurePrivateDir} does; a missing one is fine.
 *
 * @throws {CniError} code 5
 */
export async function removeFile(root: string, rel: string): Promise<void> {
  if (!await ensurePrivateDir(root, dirName(rel), false)) return;
  const path = joinPath(root, rel);
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
    `Cannot ${action}: ${errorText(error)}`,
    { cause: error },
  );
}
