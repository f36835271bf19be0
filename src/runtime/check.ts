/**
 * Checking a pod's networks (go-cni's `Check`) against what setup cached.
 *
 * @module
 */
import {
  AggregateCniError,
  type CniError,
  toCniError,
} from "../spec/errors.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { supportsCheck } from "../spec/version.ts";
import { parseNetworkConfigList } from "../config/parse_network_config.ts";
import { lockContainer } from "../cache/container_lock.ts";
import { resolveEngineOptions } from "../engine/engine_options.ts";
import { checkNetworkList } from "../engine/check_network_list.ts";
import { getCachedAttachments } from "../engine/get_cached_result.ts";
import type { RuntimeOptions } from "./runtime_options.ts";

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
 * config and arguments of its ADD.
 *
 * @throws {AggregateCniError} every attachment that failed its CHECK
 */
export async function check(
  containerId: string,
  netns: string,
  options: RuntimeOptions = {},
): Promise<CheckedNetwork[]> {
  validateContainerId(containerId);
  const engine = resolveEngineOptions(options);
  await using _lock = await lockContainer(engine.cacheDir, containerId);
  const out: CheckedNetwork[] = [];
  const failures: CniError[] = [];
  for (const entry of await getCachedAttachments(containerId, engine)) {
    const name = entry.networkName;
    try {
      const list = await parseNetworkConfigList(entry.config, {
        format: "conflist",
        source: `cache entry of network "${name}"`,
      });
      const skip = !supportsCheck(list.cniVersion) || list.disableCheck;
      if (!skip) {
        await checkNetworkList(list, {
          containerId,
          netns: netns || entry.netns,
          ifName: entry.ifName,
          args: entry.cniArgs,
          capabilityArgs: entry.capabilityArgs,
        }, engine);
      }
      out.push({
        name,
        interface: entry.ifName,
        status: skip ? "skipped" : "ok",
      });
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
