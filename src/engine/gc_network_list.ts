/**
 * GC of one network list (spec 1.1.0): DEL of stale cached attachments,
 * then the GC verb with the attachments still valid.
 *
 * @module
 */
import {
  AggregateCniError,
  type CniError,
  toCniError,
} from "../spec/errors.ts";
import type { GcAttachment, NetworkConfigList } from "../spec/types.ts";
import { supportsGcAndStatus } from "../spec/version.ts";
import { listCacheEntries } from "../cache/result_cache.ts";
import { buildGcConfig } from "./build_plugin_config.ts";
import { runPlugin } from "./_run_plugin.ts";
import { delNetworkList } from "./del_network_list.ts";
import { type EngineOptions, resolveEngineOptions } from "./engine_options.ts";

/** Arguments of {@link gcNetworkList}. */
export interface GcArgs {
  /**
   * The attachments in use. `undefined` means none is valid, as libcni's
   * nil `GCArgs` (every cached attachment of the network is deleted).
   */
  validAttachments?: readonly GcAttachment[];
}

/** What GC removed. */
export interface GcReport {
  /** Stale attachments that got their DEL. */
  deleted: GcAttachment[];
}

/**
 * Deletes every cached attachment of `list` that is not valid (with the
 * arguments recorded at its ADD), then, for 1.1.0 lists, sends GC to every
 * plugin. Skipped entirely with `disableGC`. Every step runs even when an
 * earlier one failed.
 *
 * @example Keep one attachment of a network, delete the others
 * ```ts ignore
 * import { gcNetworkList, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const { deleted } = await gcNetworkList(
 *   list,
 *   { validAttachments: [{ containerID: "abc", ifname: "eth0" }] },
 *   { binDirs: ["/usr/lib/cni"] },
 * );
 * console.log(deleted);
 * ```
 * @throws {AggregateCniError} listing every failure
 */
export async function gcNetworkList(
  list: NetworkConfigList,
  args: GcArgs = {},
  options?: EngineOptions,
): Promise<GcReport> {
  const report: GcReport = { deleted: [] };
  if (list.disableGC) return report;
  const resolved = resolveEngineOptions(options);
  const valid = new Set(
    (args.validAttachments ?? []).map((a) => `${a.containerID}\0${a.ifname}`),
  );
  const failures: CniError[] = [];
  let entries: Awaited<ReturnType<typeof listCacheEntries>> = [];
  try {
    entries = await listCacheEntries(resolved.cacheDir);
  } catch {
    // As libcni: an unreadable cache makes GC a no-op, not a failure.
  }
  for (const entry of entries) {
    if (entry.networkName !== list.name) continue;
    if (valid.has(`${entry.containerId}\0${entry.ifName}`)) continue;
    try {
      await delNetworkList(list, {
        containerId: entry.containerId,
        netns: entry.netns,
        ifName: entry.ifName,
        args: entry.cniArgs,
        capabilityArgs: entry.capabilityArgs,
      }, resolved);
      report.deleted.push({
        containerID: entry.containerId,
        ifname: entry.ifName,
      });
    } catch (error) {
      failures.push(toCniError(error));
    }
  }
  if (supportsGcAndStatus(list.cniVersion)) {
    for (const plugin of list.plugins) {
      const stdin = buildGcConfig(list, plugin, args.validAttachments);
      try {
        await runPlugin(plugin, "GC", stdin, undefined, resolved);
      } catch (error) {
        failures.push(toCniError(error));
      }
    }
  }
  if (failures.length) {
    throw new AggregateCniError(
      `GC of network "${list.name}" failed`,
      failures,
    );
  }
  return report;
}
