/**
 * `cnishim version`: bare, it reads none of the shim's settings.
 *
 * @module
 */
import { SUPPORTED_VERSIONS } from "../../spec/version.ts";
import { VERSION } from "../version.ts";
import type { CommandOutput } from "../context.ts";

/** Prints the shim version and the CNI versions it speaks. */
export function runVersion(): Promise<CommandOutput> {
  return Promise.resolve({
    stdout: { version: VERSION, cniVersions: SUPPORTED_VERSIONS },
  });
}
