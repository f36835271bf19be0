/**
 * The multi-NIC meta plugin (placeholder while it is being written).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { CniResult } from "../spec/types.ts";
import type { PluginCall } from "./_skel.ts";

/** Runs one call of the meta plugin. */
export function runMetaPlugin(
  _call: PluginCall,
): Promise<CniResult | undefined> {
  return Promise.reject(
    new CniError(CNI_ERROR_CODES.invalidNetworkConfig, "not implemented yet"),
  );
}
