/**
 * Listing the config files of a directory (libcni's `ConfFiles`).
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
 * Regular files (symlinks followed) of `dir` with one of the extensions,
 * as full paths sorted byte-wise by name; a missing dir has none.
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
  const extensions = options.extensions ?? CONFIG_EXTENSIONS;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory || !extensions.includes(extName(e.name) || e.name)) {
        continue;
      }
      if (e.isSymlink) {
        const info = await Deno.stat(joinPath(dir, e.name)).catch(() =>
          undefined
        );
        if (!info?.isFile) continue;
      }
      names.push(e.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  // Byte-wise, not locale order: "10-a" sorts before "9-b".
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) =>
    joinPath(dir, n)
  );
}
