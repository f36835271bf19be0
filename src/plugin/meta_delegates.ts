/**
 * From a backend network to the config its delegate gets: the file in
 * `confDir` whose `name` is the network's `type` (byte-wise first match,
 * `.conf`/`.json`, and `.conflist` as cnishim's extension), with its `ipam`
 * replaced by a static IPAM holding the pod's address.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  ConfigError,
  errorText,
  toCniError,
} from "../spec/errors.ts";
import type { JsonObject, NetworkConfigList } from "../spec/types.ts";
import { confFiles } from "../config/conf_files.ts";
import { findPlugin } from "../invoke/find_plugin.ts";
import {
  decodeConfigObject,
  MAX_CONFIG_FILE_SIZE,
  parseNetworkConfigList,
} from "../config/parse_network_config.ts";
import type { Logger } from "../log/logger.ts";
import type { PodNetwork } from "./meta_backend.ts";
import { isJsonObject } from "../spec/json.ts";

/** A delegate ready to run. */
export interface Delegate {
  /** The file its config came from. */
  confFile: string;
  /** The config exactly as sent (what the record keeps). */
  config: JsonObject;
  /** The same, parsed for the engine. */
  list: NetworkConfigList;
}

const ENCODER = new TextEncoder();

/**
 * For each of `names`, the first config file of `confDir` (byte-wise order)
 * with that name, in one pass that stops when all are found. Files are read
 * as the runtime's conf dir is (JSON with comments and trailing commas, the
 * size limit); one that cannot be read or parsed is logged and skipped, as
 * Dockin does, and named in the error when a name is not found.
 *
 * @throws {ConfigError} code 7 naming the first name (in `names` order)
 * that no file has, and the files that could not be parsed
 */
async function findNetworkFiles(
  confDir: string,
  names: readonly string[],
  log: Logger,
): Promise<Map<string, { file: string; config: JsonObject }>> {
  const wanted = new Set(names);
  const found = new Map<string, { file: string; config: JsonObject }>();
  const broken: string[] = [];
  const files = await confFiles(confDir);
  for (const file of files) {
    if (found.size === wanted.size) break;
    let config: JsonObject;
    try {
      const info = await Deno.stat(file);
      if (info.size > MAX_CONFIG_FILE_SIZE) {
        throw new Error(
          `${info.size} bytes is over the limit of ${MAX_CONFIG_FILE_SIZE}`,
        );
      }
      // The conf dir's own reader: comments and trailing commas allowed.
      ({ value: config } = await decodeConfigObject(
        await Deno.readFile(file),
        file,
      ));
    } catch (error) {
      const reason = errorText(error).replace(`${file}: `, "");
      broken.push(`${file} (${reason})`);
      log.info("skipping a network config that cannot be read", {
        file,
        error: reason,
      });
      continue;
    }
    const name = config.name;
    if (typeof name === "string" && wanted.has(name) && !found.has(name)) {
      found.set(name, { file, config });
    }
  }
  const missing = names.find((n) => !found.has(n));
  if (missing !== undefined) {
    const unparsed = broken.length ? `; cannot parse ${broken.join(", ")}` : "";
    throw new ConfigError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      files.length
        ? `No network config named ${
          JSON.stringify(missing)
        } in ${confDir} (${files.length} files looked at${unparsed})`
        : `No network config named ${
          JSON.stringify(missing)
        }: ${confDir} is missing or has no .conf, .conflist or .json file`,
      { field: "type" },
    );
  }
  return found;
}

/**
 * Puts the pod's address into a network config: the plugin that has an
 * `ipam` key (else the first) gets `ipam` = the static IPAM with
 * `address/prefix` and the gateway, the plugin's `routes` (else a default
 * route via the gateway) and its `dns`. Everything else stays as written.
 *
 * @example Usage
 * ```ts
 * import { injectIpam } from "./meta_delegates.ts";
 * import { deepEqual } from "node:assert/strict";
 * const conf = injectIpam(
 *   { cniVersion: "1.0.0", name: "net-a", type: "bridge", bridge: "br0", ipam: { type: "host-local" } },
 *   { type: "net-a", address: "10.1.0.5/24", family: 4, gateway: "10.1.0.1", ifName: "eth0", master: true },
 *   "static",
 * );
 * deepEqual(conf.ipam, {
 *   type: "static",
 *   addresses: [{ address: "10.1.0.5/24", gateway: "10.1.0.1" }],
 *   routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }],
 * });
 * ```
 */
export function injectIpam(
  file: JsonObject,
  network: PodNetwork,
  ipamType: string,
): JsonObject {
  const config = structuredClone(file);
  const plugins = Array.isArray(config.plugins)
    ? config.plugins as JsonObject[]
    : undefined;
  const target = plugins
    ? plugins.find((p) => isJsonObject(p) && "ipam" in p) ??
      plugins[0]
    : config;
  if (!isJsonObject(target)) return config;
  const oldIpam = (isJsonObject(target.ipam) ? target.ipam : {}) as JsonObject;
  const address: JsonObject = { address: network.address };
  if (network.gateway) address.gateway = network.gateway;
  const ipam: JsonObject = { type: ipamType, addresses: [address] };
  const routes = target.routes ?? oldIpam.routes;
  if (routes !== undefined) {
    ipam.routes = routes;
  } else if (network.gateway) {
    ipam.routes = [{
      dst: network.family === 4 ? "0.0.0.0/0" : "::/0",
      gw: network.gateway,
    }];
  }
  const dns = target.dns ?? oldIpam.dns;
  if (dns !== undefined) ipam.dns = dns;
  target.ipam = ipam;
  return config;
}

/**
 * Resolves every network to its delegate before anything runs, so that a
 * missing or broken config fails the ADD with nothing done.
 *
 * @throws {ConfigError} code 7 (or the config's own code) naming the network and file
 */
export async function buildDelegates(
  networks: readonly PodNetwork[],
  options: { confDir: string; ipamType: string; log: Logger },
): Promise<Delegate[]> {
  const files = await findNetworkFiles(
    options.confDir,
    networks.map((n) => n.type),
    options.log,
  );
  const out: Delegate[] = [];
  for (const network of networks) {
    const { file, config: raw } = files.get(network.type)!;
    const config = injectIpam(raw, network, options.ipamType);
    out.push({
      confFile: file,
      config,
      list: await delegateList(config, file),
    });
  }
  return out;
}

/** Parses a delegate config (a recorded one too) for the engine. */
export async function delegateList(
  config: JsonObject,
  source: string,
): Promise<NetworkConfigList> {
  return await parseNetworkConfigList(
    ENCODER.encode(JSON.stringify(config)),
    {
      source,
      format: Array.isArray(config.plugins) ? "conflist" : "conf",
    },
  );
}

/**
 * Finds every binary the delegates will run, each plugin's `type` and its
 * `ipam.type`, so that one missing from the bin dirs fails ADD before the
 * record is written or any delegate runs.
 *
 * @throws {CniError} code 5 (7 for a type that is not a bare name) naming
 * the plugin, the network's file and the bin dirs
 */
export async function findDelegatePlugins(
  delegates: readonly Delegate[],
  binDirs: readonly string[],
): Promise<void> {
  for (const delegate of delegates) {
    for (const plugin of delegate.list.plugins) {
      const ipam = plugin.raw.ipam as JsonObject | undefined;
      const types = [plugin.type];
      if (isJsonObject(ipam) && typeof ipam.type === "string") {
        types.push(ipam.type);
      }
      for (const type of types) {
        try {
          await findPlugin(type, binDirs);
        } catch (error) {
          const e = toCniError(error);
          throw new CniError(
            e.code,
            `Cannot delegate network "${delegate.list.name}" (${delegate.confFile}): ${e.message}`,
            { cause: e },
          );
        }
      }
    }
  }
}
