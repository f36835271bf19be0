/**
 * The fault suite's leak check finds what it claims to find, so that a
 * clean result means something: a lock file held by another process, a
 * container's lock file left on disk, and a process left running (found
 * by its environment or by its command line).
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { FaultBed, faultId } from "./_fault_bed.ts";
import { waitFor } from "../_helpers/wait_for.ts";

Deno.test({
  name:
    "fault suite: the leak check sees held locks, lock files and leftover processes",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const id = faultId("probe");
    const locks = `${fb.bed.cacheDir}/locks/containers`;
    await Deno.mkdir(locks, { recursive: true });
    await Deno.writeTextFile(`${locks}/${id}.lock`, "");
    // One process holding the lock (a deno child, so that killing it
    // releases the lock: flock(1) would leave it to its own child).
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${
          JSON.stringify(`${locks}/${id}.lock`)
        }, { read: true, write: true });
         await f.lock(true);
         setInterval(() => {}, 60_000);`,
      ],
    }).spawn();
    const plugin = new Deno.Command("sleep", {
      args: ["601"],
      env: { CNI_CONTAINERID: id, CNI_COMMAND: "ADD" },
      clearEnv: true,
    }).spawn();
    const byPath = new Deno.Command(Deno.execPath(), {
      args: ["eval", "setInterval(() => {}, 60_000);", `${fb.root}/x`],
    }).spawn();
    try {
      await waitFor(
        async () => (await fb.leaks([id])).locksHeld.length > 0,
        5000,
        "the held lock is seen",
      );
      const leaks = await fb.leaks([id]);
      deepEqual(leaks.locksHeld, [`${id}.lock`]);
      deepEqual(leaks.locks, [`${id}.lock`]);
      const pids = leaks.processes.map((p) => Number(p.split(" ")[0]));
      ok(pids.includes(plugin.pid), leaks.processes.join("\n"));
      ok(pids.includes(byPath.pid), leaks.processes.join("\n"));
      equal((await fb.leaksOf(id)).locks.length, 1);
    } finally {
      for (const c of [holder, plugin, byPath]) {
        try {
          c.kill("SIGKILL");
        } catch {
          // Gone.
        }
        await c.status;
      }
    }
    await Deno.remove(`${locks}/${id}.lock`);
    await fb.assertNoLeaks([id]);
  },
});
