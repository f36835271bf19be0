/**
 * Finding a plugin binary: only in the configured bin dirs, in order, never
 * through `PATH` (libcni's `invoke.FindInPath`).
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import { validatePluginType } from "../spec/identifiers.ts";

/**
 * Returns the path of plugin `type` in the first of `binDirs` holding a
 * regular file of that name (symlinks followed, as libcni does, so that a
 * node may link plugin names to one binary).
 *
 * @throws {CniError} code 7 for a type that is not a bare name, code 5 when not found
 */
export async function findPlugin(
  type: string,
  binDirs: readonly string[],
): Promise<string> {
  validatePluginType(type);
  if (binDirs.length === 0) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Cannot find plugin "${type}": no plugin directories configured`,
    );
  }
  for (const dir of binDirs) {
    // A relative bin dir would make the lookup depend on the caller's cwd.
    if (!dir.startsWith("/")) continue;
    const candidate = joinPath(dir, type);
    try {
      if ((await Deno.stat(candidate)).isFile) return candidate;
    } catch {
      // Missing or unreadable: try the next directory.
    }
  }
  throw new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot find plugin "${type}" in the plugin directories [${
      binDirs.join(" ")
    }]`,
  );
}
