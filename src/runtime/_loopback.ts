/**
 * The built-in loopback network (go-cni's `cni-loopback`, 0.3.1, on `lo`).
 *
 * @module
 */
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import type { ResolvedEngineOptions } from "../engine/engine_options.ts";
import { LOOPBACK_NETWORK } from "./runtime_options.ts";

const LOOPBACK_CONFIG = JSON.stringify({
  cniVersion: "0.3.1",
  name: LOOPBACK_NETWORK,
  plugins: [{ type: "loopback" }],
});

/** The loopback list, or `undefined` when no `loopback` plugin is installed. */
export async function loopbackNetwork(
  engine: ResolvedEngineOptions,
): Promise<NetworkConfigList | undefined> {
  try {
    await engine.findPlugin("loopback");
  } catch {
    return undefined;
  }
  return await parseNetworkConfigList(
    new TextEncoder().encode(LOOPBACK_CONFIG),
    { format: "conflist", source: "built-in loopback" },
  );
}
