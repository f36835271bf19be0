// Pure: no Deno API.
/**
 * The shim's version. A release build (`scripts/compile.ts`) bundles a
 * generated build-info module in this one's place, with `git describe`.
 *
 * @module
 */

/** The shim version (kept equal to deno.json's by a test). */
export const VERSION = "0.1.0";
