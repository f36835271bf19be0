/**
 * What an operation does first when the previous one on its container died
 * midway (SIGKILL, OOM): kill the plugins it left running, so that none of
 * them goes on changing the host while this operation undoes or redoes
 * its work.
 *
 * @module
 */
import type { HeldLock } from "../cache/container_lock.ts";
import { reapOrphanPlugins } from "../invoke/plugin_processes.ts";
import type { Logger } from "../log/logger.ts";
import { sweepContainerTemps } from "./temp_sweep.ts";

/**
 * Reaps the dead holder's plugins, if the lock had one, and removes the
 * temp files of the writes it was in the middle of: only a writer that
 * dies leaves one (a failed write removes its own), and a holder that dies
 * leaves its pid in the lock file, so the sweep costs nothing otherwise.
 */
export async function settleDeadHolder(
  lock: HeldLock,
  containerId: string,
  log: Logger,
  cacheDir?: string,
): Promise<void> {
  const dead = lock.deadHolder;
  if (dead === undefined) return;
  const [killed, swept] = await Promise.all([
    reapOrphanPlugins(containerId),
    cacheDir ? sweepContainerTemps(cacheDir, containerId) : [],
  ]);
  log.warn("the previous operation on this container died midway", {
    containerId,
    pid: dead,
    killedPlugins: killed.length,
    ...(swept.length ? { removedTempFiles: swept } : {}),
  });
  await lock.settle();
}
