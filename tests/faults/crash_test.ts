/**
 * cnishim itself dies: SIGKILL in the middle of an ADD (or a DEL) while a
 * slow plugin runs after the real bridge and portmap. What the dead
 * process recorded before its first plugin (the intent cache entry and the
 * pod record) must let the next `del` undo everything, and the plugin it
 * left running must not outlive that `del`.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { createNetns, linksIn } from "../_helpers/netns.ts";
import { expectExit } from "../_helpers/run_cli.ts";
import { leftoverProcesses } from "../_helpers/processes.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  explain,
  FaultBed,
  faultId,
  PORTMAP,
  portMappingsFlag,
} from "./_fault_bed.ts";

const exists = (path: string) => () =>
  Deno.stat(path).then(() => true, () => false);

async function killMidway(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  const status = await child.status;
  equal(status.signal, "SIGKILL");
  await child.stdout.cancel();
  await child.stderr.cancel();
}

Deno.test({
  name:
    "fault: cnishim killed with SIGKILL in the middle of an ADD; the next del replays what was recorded and leaves nothing, orphaned plugin included",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const marker = `${fb.root}/slow-add.pid`;
    const net = await fb.network(({ bridge, fault }) => [
      bridge,
      PORTMAP,
      fault({ ADD: { marker, sleep: 600 } }),
    ]);
    await using ns = await createNetns("csk");
    const id = faultId("kill");
    const child = fb.spawnCli(["add", id, ns.path, ...portMappingsFlag()]);
    await waitFor(exists(marker), 30_000, "the slow plugin started");

    // Midway: bridge and portmap have done their work, the lock is held,
    // and the entry records the ADD without a result yet.
    const mid = await fb.leaks([id]);
    equal(mid.veths.length, 1, JSON.stringify(mid));
    equal(mid.ipam.length, 1, JSON.stringify(mid));
    ok(mid.iptables.length > 0, "portmap's DNAT chain exists");
    // Its own lock exclusively, and the GC lock shared.
    deepEqual(mid.locksHeld, [`${id}.lock`, "gc.lock"].sort());
    deepEqual(mid.podRecords, [`${id}.json`]);
    ok(mid.cache.includes(`${net.name}-${id}-eth0`), mid.cache.join());
    const intent = JSON.parse(
      await Deno.readTextFile(
        `${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`,
      ),
    );
    equal(intent.result, undefined, "no result yet: an ADD in progress");
    deepEqual(intent.capabilityArgs.portMappings.length, 1);

    await killMidway(child);
    // The plugin cnishim was waiting for runs on, an orphan now.
    const orphans = await leftoverProcesses([fb.root], [id]);
    ok(orphans.length > 0, "the slow plugin outlives cnishim until the del");
    equal((await fb.leaks([id])).locksHeld.length, 0, "the lock died with it");

    const del = await fb.cli(["del", id, ns.path]);
    expectExit(del, 0, explain(del));
    deepEqual(
      del.json<{ removed: { network: string }[] }>().removed.map((r) =>
        r.network
      ),
      [net.name, "cni-loopback"],
    );
    deepEqual(await linksIn(ns), ["lo"]);
    // veth, IP, DNAT chain, cache entry, pod record, lock, orphan: all gone.
    await fb.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "fault: cnishim killed with SIGKILL in the middle of a DEL; the next del finishes the job",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const marker = `${fb.root}/slow-del.pid`;
    await fb.network(({ bridge, fault }) => [
      bridge,
      PORTMAP,
      fault({ DEL: { marker, once: true, sleep: 600 } }),
    ]);
    await using ns = await createNetns("csk");
    const id = faultId("kdel");
    const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
    expectExit(add, 0, explain(add));
    const child = fb.spawnCli(["del", id, ns.path]);
    await waitFor(exists(marker), 30_000, "the slow DEL started");
    await killMidway(child);
    const del = await fb.cli(["del", id, ns.path]);
    expectExit(del, 0, explain(del));
    deepEqual(await linksIn(ns), ["lo"]);
    await fb.assertNoLeaks([id]);
  },
});
