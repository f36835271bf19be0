/**
 * Listing the config files of a directory (libcni's `ConfFiles`), and what
 * else sits there that must never be opened.
 *
 * @module
 */
import { extName, joinPath } from "../spec/posix_path.ts";

/** The extensions runtimes load. */
export const CONFIG_EXTENSIONS: readonly string[] = [
  ".conf",
  ".conflist",
  ".json",
];

/**
 * An entry of a directory that is neither a regular file nor a directory
 * (nor a symlink to one): opening a FIFO blocks until a writer comes, a
 * device may do anything, so such an entry is only ever `lstat`ed.
 */
export interface IrregularEntry {
  /** Its full path. */
  path: string;
  /** What it is, for messages: `a FIFO`, `a symlink to a socket`, …. */
  kind: string;
  /** Whether opening it may block (a FIFO or a device; not a socket). */
  mayBlock: boolean;
}

/** The regular files and the irregular entries of a directory. */
export interface ConfDirEntries {
  /** Regular files (symlinks followed) with a config extension, sorted. */
  files: string[];
  /** Irregular entries with a config extension, sorted. */
  irregular: IrregularEntry[];
}

/**
 * Regular files (symlinks followed) of `dir` with one of the extensions,
 * as full paths sorted byte-wise by name; a missing dir has none. FIFOs,
 * sockets and devices are left out without being opened.
 *
 * @example Usage
 * ```ts
 * import { confFiles } from "./conf_files.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(await confFiles("/nonexistent"), []);
 * ```
 */
export async function confFiles(
  dir: string,
  options: { extensions?: readonly string[] } = {},
): Promise<string[]> {
  return (await confDirEntries(dir, options)).files;
}

/**
 * {@link confFiles}, with the irregular entries that carry a config
 * extension besides (so that a scan can report them).
 */
export async function confDirEntries(
  dir: string,
  options: { extensions?: readonly string[] } = {},
): Promise<ConfDirEntries> {
  const extensions = options.extensions ?? CONFIG_EXTENSIONS;
  const files: string[] = [];
  const irregular: IrregularEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory || !extensions.includes(extName(e.name) || e.name)) {
        continue;
      }
      const kind = await entryKind(dir, e);
      if (kind === "file") files.push(e.name);
      else if (kind) irregular.push(irregularEntry(dir, e.name, kind));
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { files, irregular };
    throw error;
  }
  return {
    files: files.sort(byteWise).map((n) => joinPath(dir, n)),
    irregular: irregular.sort((a, b) => byteWise(a.path, b.path)),
  };
}

/**
 * Every irregular entry of `dir`, whatever its name; none when it cannot
 * be read.
 */
export async function irregularEntries(dir: string): Promise<IrregularEntry[]> {
  const found: IrregularEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile || e.isDirectory) continue;
      const kind = await entryKind(dir, e);
      if (kind && kind !== "file") {
        found.push(irregularEntry(dir, e.name, kind));
      }
    }
  } catch {
    // Gone or unreadable: nothing in it to open by mistake.
  }
  return found;
}

// "file" for a regular file or a symlink to one, the kind of an irregular
// entry, undefined for a directory, a symlink to one or a dangling symlink
// (left out silently, as before). Only lstat and stat: nothing is opened.
async function entryKind(
  dir: string,
  e: Deno.DirEntry,
): Promise<string | undefined> {
  if (e.isFile) return "file";
  if (e.isDirectory) return undefined;
  const path = joinPath(dir, e.name);
  const info = await (e.isSymlink ? Deno.stat(path) : Deno.lstat(path))
    .catch(() => undefined);
  if (!info || info.isDirectory) return undefined;
  if (info.isFile) return "file";
  const what = info.isFifo
    ? "a FIFO"
    : info.isSocket
    ? "a socket"
    : info.isCharDevice
    ? "a character device"
    : info.isBlockDevice
    ? "a block device"
    : "a special file";
  return e.isSymlink ? `a symlink to ${what}` : what;
}

function irregularEntry(
  dir: string,
  name: string,
  kind: string,
): IrregularEntry {
  return {
    path: joinPath(dir, name),
    kind,
    mayBlock: /FIFO|device|special/.test(kind),
  };
}

// Byte-wise, not locale order: "10-a" sorts before "9-b".
function byteWise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
