/**
 * Checking a pod's networks (go-cni's `Check`) against what setup cached.
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  toCniError,
} from "../spec/errors.ts";
import type { NetworkConfigList, RuntimeConf } from "../spec/types.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { supportsCheck } from "../spec/version.ts";
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import { lockContainer } from "../cache/container_lock.ts";
import { checkNetworkList } from "../engine/check_network_list.ts";
import { type PodRecord, readPod, recordedKeys } from "./pod_record.ts";
import type { CacheScan } from "../cache/result_cache.ts";
import { findNetwork, type LoadedNetworks } from "../config/load_networks.ts";
import { confNetworks } from "./conf_networks.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** One attachment's CHECK outcome. */
export interface CheckedNetwork {
  /** The network name. */
  name: string;
  /** The interface. */
  interface: string;
  /** `ok`, or `skipped` for lists older than 0.4.0 or with `disableCheck`. */
  status: "ok" | "skipped";
}

/**
 * Runs CHECK on every attachment cached for the container, with the
 * config and arguments of its ADD (for a pre-0.8 libcni entry, which holds
 * only the result, with today's config of its network). An attachment the
 * pod record lists whose entry is gone or unreadable is a failure.
 *
 * @example Check every network of a pod
 * ```ts ignore
 * import { check } from "./mod.ts";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * for (const net of await check("pod1", "/var/run/netns/pod1", options)) {
 *   console.log(net.name, net.interface, net.status);
 * }
 * ```
 * @throws {CniError} code 4 when the container is not set up (nothing cached)
 * @throws {AggregateCniError} every attachment that failed its CHECK
 */
export async function check(
  containerId: string,
  netns: string,
  options: RuntimeOptions = {},
): Promise<CheckedNetwork[]> {
  validateContainerId(containerId);
  const resolved = resolveRuntimeOptions(options);
  const { engine } = resolved;
  await using lock = await lockContainer(engine.cacheDir, containerId);
  const out: CheckedNetwork[] = [];
  const failures: CniError[] = [];
  const checkOne = async (list: NetworkConfigList, rt: RuntimeConf) => {
    const skip = !supportsCheck(list.cniVersion) || list.disableCheck;
    if (!skip) await checkNetworkList(list, rt, engine);
    out.push({
      name: list.name,
      interface: rt.ifName,
      status: skip ? "skipped" : "ok",
    });
  };
  const { record, scan } = await readPod(engine.cacheDir, containerId);
  const { entries, legacy } = scan;
  if (!record && !entries.length && !legacy.length && !scan.unreadable.length) {
    // A lock file made for a container that has nothing must not stay
    // (unless it tells the next ADD or DEL that its holder died midway).
    if (lock.deadHolder === undefined) lock.removeOnRelease();
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      `Cannot CHECK container "${containerId}": it is not set up (nothing cached for it in "${engine.cacheDir}")`,
    );
  }
  failures.push(...uncheckable(containerId, record, scan));
  for (const entry of entries) {
    const name = entry.networkName;
    try {
      const list = await parseNetworkConfigList(entry.config, {
        format: "conflist",
        source: `cache entry of network "${name}"`,
      });
      await checkOne(list, {
        containerId,
        netns: netns || entry.netns,
        ifName: entry.ifName,
        args: entry.cniArgs,
        capabilityArgs: entry.capabilityArgs,
      });
    } catch (error) {
      failures.push(toCniError(error));
    }
  }
  // libcni before 0.8 cached the bare result: CHECK runs today's config of
  // the network with that result as prevResult, as libcni does.
  let current: LoadedNetworks | undefined;
  for (const key of legacy) {
    try {
      current ??= await confNetworks(resolved);
      const list = findNetwork(current, key.networkName);
      if (!list) {
        throw new CniError(
          CNI_ERROR_CODES.invalidNetworkConfig,
          `Cannot CHECK network "${key.networkName}" (${key.ifName}): its cache entry is a pre-0.8 libcni result without a config, and "${resolved.confDir}" has no network of that name`,
        );
      }
      await checkOne(list, { containerId, netns, ifName: key.ifName });
    } catch (error) {
      failures.push(toCniError(error));
    }
  }
  if (failures.length) {
    throw new AggregateCniError(
      `CHECK of container "${containerId}" failed`,
      failures,
    );
  }
  return out;
}

// The attachments the record lists that CHECK cannot run: no cache entry
// (removed behind cnishim's back, or a setup that stopped midway), or one
// that cannot be read. Each is a failure, never left out silently.
function uncheckable(
  containerId: string,
  record: PodRecord | undefined,
  scan: CacheScan,
): CniError[] {
  const out: CniError[] = [];
  const key = (k: { networkName: string; ifName: string }) =>
    `${k.networkName}\0${k.ifName}`;
  const readable = new Set([...scan.entries, ...scan.legacy].map(key));
  const unreadable = new Set(scan.unreadable.map(key));
  const listed = record
    ? recordedKeys(containerId, record.attachments)
    : scan.unreadable;
  for (const k of listed) {
    if (readable.has(key(k))) continue;
    out.push(
      new CniError(
        CNI_ERROR_CODES.ioFailure,
        `CHECK of network "${k.networkName}" (${k.ifName}) failed: ${
          unreadable.has(key(k))
            ? "its cache entry cannot be read"
            : "the pod record lists it but its cache entry is gone"
        }`,
      ),
    );
  }
  return out;
}
