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

/** Reaps the dead holder's plugins, if the lock had one. */
export async function settleDeadHolder(
  lock: HeldLock,
  containerId: string,
  log: Logger,
): Promise<void> {
  const dead = lock.deadHolder;
  if (dead === undefined) return;
  const killed = await reapOrphanPlugins(containerId);
  log.warn("the previous operation on this container died midway", {
    containerId,
    pid: dead,
    killedPlugins: killed.length,
  });
  await lock.settle();
}
