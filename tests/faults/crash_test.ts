/**
 * cnishim itself dies: SIGKILL in the middle of an ADD (or a DEL) while a
 * slow plugin runs after the real bridge and portmap, and a campaign of
 * SIGKILLs at random points of ADD and DEL on the real chain. What the dead
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
import { baseEnv, cliCommand, expectExit } from "../_helpers/run_cli.ts";
import { leftoverProcesses } from "../_helpers/processes.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  assertNothingLeft,
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

// A small seeded PRNG (mulberry32), so that a failing campaign replays.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CAMPAIGN_SEED = Number(
  Deno.env.get("CNISHIM_CRASH_SEED") ?? Math.floor(Math.random() * 2 ** 31),
);
const CAMPAIGN_ROUNDS = Number(Deno.env.get("CNISHIM_CRASH_ROUNDS") ?? 100);

Deno.test({
  name:
    `fault: crash campaign, ${CAMPAIGN_ROUNDS} rounds of SIGKILL at random points of ADD and DEL on bridge + host-local + portmap + tuning; each retried DEL leaves nothing, temp files included (seed ${CAMPAIGN_SEED}, CNISHIM_CRASH_SEED replays)`,
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    const started = performance.now();
    const random = prng(CAMPAIGN_SEED);
    await using fb = await FaultBed.create();
    await fb.network(({ bridge }) => [
      bridge,
      PORTMAP,
      { type: "tuning", sysctl: { "net.ipv4.conf.eth0.arp_filter": "1" } },
    ]);
    await using ns = await createNetns("ccp");
    const [cmd, ...lead] = cliCommand();
    const spawn = (args: string[]) =>
      new Deno.Command(cmd, {
        args: [...lead, ...args, ...fb.flags()],
        clearEnv: true,
        env: baseEnv(),
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    // How long an uninterrupted ADD and DEL take here, to kill within them.
    const timed = async (args: string[]) => {
      const t0 = performance.now();
      const status = await spawn(args).status;
      equal(status.code, 0, `calibration ${args[0]} failed`);
      return performance.now() - t0;
    };
    const calibrate = faultId("cal");
    const addMs = await timed([
      "add",
      calibrate,
      ns.path,
      ...portMappingsFlag(),
    ]);
    const delMs = await timed(["del", calibrate, ns.path]);
    const stats = { killedAdd: 0, killedDel: 0, finishedFirst: 0, tmpSeen: 0 };
    let current: string | undefined;
    try {
      for (let round = 0; round < CAMPAIGN_ROUNDS; round++) {
        const id = faultId(`c${round}`);
        current = id;
        const killAt = async (args: string[], ms: number) => {
          const child = spawn(args);
          // From cnishim's start-up to a little past its usual end.
          const wait = ms * (0.1 + 1.3 * random());
          const done = await Promise.race([
            child.status.then(() => true),
            new Promise<false>((r) => setTimeout(() => r(false), wait)),
          ]);
          if (!done) {
            try {
              child.kill("SIGKILL");
            } catch {
              // It finished in the meantime.
            }
          }
          return (await child.status).signal === "SIGKILL";
        };
        if (await killAt(["add", id, ns.path, ...portMappingsFlag()], addMs)) {
          stats.killedAdd++;
        } else stats.finishedFirst++;
        if (random() < 0.5 && await killAt(["del", id, ns.path], delMs)) {
          stats.killedDel++;
        }
        const cache = await Array.fromAsync(
          Deno.readDir(`${fb.bed.cacheDir}/results`),
        ).catch(() => []);
        if (cache.some((e) => e.name.endsWith(".tmp"))) stats.tmpSeen++;
        const del = await fb.cli(["del", id, ns.path]);
        expectExit(
          del,
          0,
          `round ${round} (seed ${CAMPAIGN_SEED}): ${explain(del)}`,
        );
        const left = await fb.leaks([id]);
        try {
          assertNothingLeft(left);
        } catch (error) {
          throw new Error(
            `round ${round} (seed ${CAMPAIGN_SEED}): ${
              (error as Error).message
            }`,
          );
        }
        deepEqual(await linksIn(ns), ["lo"], `round ${round}`);
        current = undefined;
      }
    } finally {
      if (current) await fb.cli(["del", current, ns.path]).catch(() => {});
    }
    // deno-lint-ignore no-console -- rounds, seed and wall time are the report
    console.log(
      `crash campaign: ${CAMPAIGN_ROUNDS} rounds, seed ${CAMPAIGN_SEED}, ${
        JSON.stringify(stats)
      }, ADD ${Math.round(addMs)} ms, DEL ${Math.round(delMs)} ms, wall ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  },
});
