/**
 * Network lists for tests, parsed by the real parser.
 *
 * @module
 */
import { parseNetworkConfigList } from "../../src/config/parse_network_config.ts";
import type { JsonObject, NetworkConfigList } from "../../src/spec/types.ts";

/** Parses a conflist given as an object. */
export async function makeList(list: JsonObject): Promise<NetworkConfigList> {
  return await parseNetworkConfigList(
    new TextEncoder().encode(JSON.stringify(list, null, 2)),
    { format: "conflist" },
  );
}

/** A three-plugin list `a`, `b`, `c`; `b` declares `portMappings`. */
export function threePlugins(
  cniVersion: string,
  extra: JsonObject = {},
): JsonObject {
  return {
    cniVersion,
    name: "net3",
    ...extra,
    plugins: [
      {
        type: "a",
        name: "own-name",
        cniVersion: "0.1.0",
        args: { cni: { labels: [1] } },
        custom: { x: 1 },
      },
      {
        type: "b",
        capabilities: { portMappings: true, bandwidth: false, mac: true },
        runtimeConfig: { stale: true },
      },
      {
        type: "c",
        runtimeConfig: { keep: "me" },
        capabilities: { ips: false },
      },
    ],
  };
}

/** A one-plugin conflist file's text. */
export function conflistText(name: string, type = "a"): string {
  return JSON.stringify({ cniVersion: "1.0.0", name, plugins: [{ type }] });
}

/** The network names of a load, in order. */
export function networkNames(
  loaded: { networks: { name: string }[] },
): string[] {
  return loaded.networks.map((n) => n.name);
}
