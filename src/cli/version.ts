// Pure: no Deno API.
/**
 * The shim's version; `scripts/compile.ts` rewrites it with `git describe`
 * when it builds a release.
 *
 * @module
 */

/** The shim version (kept equal to deno.json's by a test). */
export const VERSION = "0.1.0";
