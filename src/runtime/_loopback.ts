/**
 * The built-in loopback network (go-cni's `cni-loopback`, 0.3.1, on `lo`).
 *
 * @module
 */
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { findPlugin } from "../invoke/find_plugin.ts";
import { LOOPBACK_NETWORK } from "./runtime_options.ts";

const LOOPBACK_CONFIG = JSON.stringify({
  cniVersion: "0.3.1",
  name: LOOPBACK_NETWORK,
  plugins: [{ type: "loopback" }],
});

/** The loopback list, or `undefined` when no `loopback` plugin is installed. */
export async function loopbackNetwork(
  binDirs: readonly string[],
): Promise<NetworkConfigList | undefined> {
  try {
    await findPlugin("loopback", binDirs);
  } catch {
    return undefined;
  }
  return await parseNetworkConfigList(
    new TextEncoder().encode(LOOPBACK_CONFIG),
    { format: "conflist", source: "built-in loopback" },
  );
}
