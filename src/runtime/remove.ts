/**
 * Tearing a pod's networks down (go-cni's `Remove`), from what the cache
 * recorded at setup (see `_teardown.ts`).
 *
 * @module
 */
import { AggregateCniError } from "../spec/errors.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { lockContainer } from "../cache/container_lock.ts";
import { settleDeadHolder } from "./_orphans.ts";
import { teardown } from "./_teardown.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** What {@link remove} tore down. */
export interface RemoveReport {
  /** Attachments that got their DEL, in teardown order. */
  removed: { network: string; interface: string }[];
  /**
   * Loopback DEL failures and corrupt cache entries moved to
   * `<cacheDir>/quarantine/`: reported, never fatal.
   */
  warnings: string[];
}

/**
 * Tears down every attachment cached for `containerId`, all at once (in
 * reverse setup order when `serial`), continuing past failures. `netns` may be "" or a path that no
 * longer exists: plugins then get an empty `CNI_NETNS`. With nothing
 * cached it succeeds (idempotent). An attachment whose cache entry is
 * corrupt is torn down with today's config of its network and the runtime
 * args the pod record kept; the entry goes to quarantine.
 *
 * @example Tear a pod down, its netns gone or not
 * ```ts ignore
 * import { remove } from "./mod.ts";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * const report = await remove("pod1", "", options);
 * console.log(report.removed, report.warnings);
 * ```
 * @throws {AggregateCniError} every failure, after every attachment was tried
 */
export async function remove(
  containerId: string,
  netns = "",
  options: RuntimeOptions = {},
): Promise<RemoveReport> {
  validateContainerId(containerId);
  const resolved = resolveRuntimeOptions(options);
  const { engine } = resolved;
  await using lock = await lockContainer(engine.cacheDir, containerId);
  await settleDeadHolder(
    lock,
    containerId,
    resolved.logger,
    engine.cacheDir,
  );
  const { failures, removed, warnings } = await teardown(
    containerId,
    netns,
    resolved,
  );
  if (failures.length) {
    throw new AggregateCniError(
      `Teardown of container "${containerId}" failed`,
      failures,
    );
  }
  lock.removeOnRelease();
  return { removed, warnings };
}
