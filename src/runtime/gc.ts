/**
 * Garbage collection across pods: tear down every cached container that is
 * not kept, then send the GC verb (1.1.0) with the attachments still valid.
 *
 * @module
 */
import {
  AggregateCniError,
  type CniError,
  toCniError,
} from "../spec/errors.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import type { GcAttachment } from "../spec/types.ts";
import { confNetworks } from "./conf_networks.ts";
import { lockForGc, sweepContainerLocks } from "../cache/container_lock.ts";
import { getCachedAttachments } from "../engine/get_cached_result.ts";
import { gcNetworkList } from "../engine/gc_network_list.ts";
import { listPodRecords } from "./pod_record.ts";
import { teardown } from "./_teardown.ts";
import { sweepStaleTemps } from "./temp_sweep.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** Options of {@link gc}. */
export interface GcOptions extends RuntimeOptions {
  /**
   * Attachments the caller still uses (the GC verb's
   * `cni.dev/valid-attachments`): a container any of whose attachments
   * is listed is kept, with all of its attachments.
   */
  keepAttachments?: readonly GcAttachment[];
}

/** What {@link gc} did. */
export interface GcResult {
  /** Containers torn down. */
  removedContainers: string[];
  /** Attachments left, as sent to plugins. */
  validAttachments: GcAttachment[];
}

/**
 * Removes every container not in `keep`, holding the GC lock so no ADD or
 * DEL runs meanwhile.
 *
 * @example Keep the running pods, remove the rest
 * ```ts ignore
 * import { gc } from "./mod.ts";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * const { removedContainers } = await gc(["pod1", "pod2"], options);
 * console.log(removedContainers);
 * ```
 * @throws {AggregateCniError} every failure, after everything was tried
 */
export async function gc(
  keep: readonly string[],
  options: GcOptions = {},
): Promise<GcResult> {
  keep.forEach(validateContainerId);
  const resolved = resolveRuntimeOptions(options);
  const { engine } = resolved;
  await using _lock = await lockForGc(engine.cacheDir);
  const kept = new Set(keep);
  const entries = await getCachedAttachments(undefined, engine);
  // Under the GC lock: no ADD adds a container meanwhile.
  const listed = new Set(
    (options.keepAttachments ?? []).map((a) => `${a.containerID}\0${a.ifname}`),
  );
  for (const e of entries) {
    if (listed.has(`${e.containerId}\0${e.ifName}`)) kept.add(e.containerId);
  }
  const stale = new Set(
    [
      ...entries.map((e) => e.containerId),
      ...await listPodRecords(engine.cacheDir),
    ]
      .filter((id) => !kept.has(id)),
  );
  const failures: CniError[] = [];
  const removedContainers: string[] = [];
  const failed = new Set<string>();
  for (const id of [...stale].sort()) {
    const errors = (await teardown(id, "", resolved)).failures;
    if (errors.length) {
      failures.push(...errors);
      failed.add(id);
    } else removedContainers.push(id);
  }
  await sweepContainerLocks(engine.cacheDir, new Set([...kept, ...failed]));
  // Under the GC lock no ADD or DEL writes: every temp file is stale.
  await sweepStaleTemps(engine.cacheDir, 0);
  const validAttachments = entries
    .filter((e) => kept.has(e.containerId))
    .map((e) => ({ containerID: e.containerId, ifname: e.ifName }));
  if (resolved.networkPlugin === "cni") {
    const loaded = await confNetworks(resolved);
    for (const list of loaded.networks) {
      const mine = entries
        .filter((e) => kept.has(e.containerId) && e.networkName === list.name)
        .map((e) => ({ containerID: e.containerId, ifname: e.ifName }));
      try {
        await gcNetworkList(list, { validAttachments: mine }, engine);
      } catch (error) {
        failures.push(toCniError(error));
      }
    }
  }
  if (failures.length) throw new AggregateCniError("GC failed", failures);
  return { removedContainers, validAttachments };
}
