/**
 * Concurrency on real plugins: ADD and DEL of one container racing from
 * two processes, and 50 containers added and deleted at once.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { createNetns, linksIn, type Netns } from "../_helpers/netns.ts";
import {
  assertNothingLeft,
  explain,
  FaultBed,
  faultId,
  PORTMAP,
} from "./_fault_bed.ts";

const ROUNDS = 10;
const PODS = 50;

Deno.test({
  name:
    "fault: ADD and DEL of the same container at the same time from two processes end fully added or fully clean, never half",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    // A short pause inside the chain widens the window for the DEL to
    // arrive while the ADD is under way.
    const net = await fb.network(({ bridge, fault }) => [
      bridge,
      fault({ ADD: { sleep: 0.3 } }),
      PORTMAP,
    ]);
    const outcomes = { addedLast: 0, deletedLast: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      await using ns = await createNetns("csr");
      const id = faultId(`r${round}`);
      const ports = JSON.stringify([{
        protocol: 0,
        container_port: 80,
        host_port: 20000 + round * 7 + Math.floor(Math.random() * 7),
      }]);
      // One of the two starts up to 400 ms later, so that both orders (and
      // a DEL arriving while the ADD holds the lock) happen.
      const delay = Math.floor(Math.random() * 400);
      const later = <T>(first: boolean, run: () => Promise<T>) =>
        first ? run() : new Promise((r) => setTimeout(r, delay)).then(run);
      const addFirst = round % 2 === 0;
      const [add, del] = await Promise.all([
        later(
          addFirst,
          () => fb.cli(["add", id, ns.path, "--port-mappings", ports]),
        ),
        later(!addFirst, () => fb.cli(["del", id, ns.path])),
      ]);
      equal(del.code, 0, explain(del));
      equal(add.code, 0, explain(add));
      const leaks = await fb.leaksOf(id);
      const links = await linksIn(ns);
      if (links.includes("eth0")) {
        // The DEL ran first: the pod must be completely there.
        outcomes.addedLast++;
        deepEqual(links, ["eth0", "lo"]);
        equal(leaks.ipam.length, 1, JSON.stringify(leaks));
        deepEqual(leaks.cache.sort(), [
          `cni-loopback-${id}-lo`,
          `${net.name}-${id}-eth0`,
        ]);
        const entry = JSON.parse(
          await Deno.readTextFile(
            `${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`,
          ),
        );
        ok(entry.result?.ips?.length, "the entry holds the final result");
        deepEqual(leaks.podRecords, [`${id}.json`]);
        ok(leaks.iptables.length > 0, "portmap's rules are there");
        const again = await fb.cli(["del", id, ns.path]);
        equal(again.code, 0, explain(again));
      } else {
        outcomes.deletedLast++;
        deepEqual(links, ["lo"]);
      }
      assertNothingLeft(await fb.leaksOf(id));
    }
    equal(outcomes.addedLast + outcomes.deletedLast, ROUNDS);
    await fb.assertNoLeaks([]);
    // deno-lint-ignore no-console -- the split is part of the report
    console.log(`ADD/DEL race outcomes: ${JSON.stringify(outcomes)}`);
  },
});

Deno.test({
  name:
    "fault: 50 containers added and then deleted by 50 concurrent processes all succeed and leave nothing",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const net = await fb.network(({ bridge }) => [bridge, PORTMAP]);
    await using stack = new AsyncDisposableStack();
    const pods: { id: string; ns: Netns; port: number }[] = [];
    const base = 20000 + Math.floor(Math.random() * 9000);
    for (let i = 0; i < PODS; i++) {
      pods.push({
        id: faultId(`c${i}`),
        ns: stack.use(await createNetns("csn")),
        port: base + i,
      });
    }
    const ids = pods.map((p) => p.id);

    const adds = await Promise.all(pods.map((p) =>
      fb.cli([
        "add",
        p.id,
        p.ns.path,
        "--port-mappings",
        JSON.stringify([{
          protocol: 0,
          container_port: 80,
          host_port: p.port,
        }]),
      ])
    ));
    adds.forEach((r, i) => equal(r.code, 0, `pod ${i}: ${explain(r)}`));
    const ips = adds.map((r) => r.json<{ primaryIP: string }>().primaryIP);
    equal(new Set(ips).size, PODS, "every pod has its own address");
    const mid = await fb.leaks(ids);
    equal(mid.veths.length, PODS);
    equal(mid.ipam.length, PODS);
    equal(mid.cache.length, 2 * PODS);
    const dnat = mid.iptables.filter((l) => l.includes("-j DNAT"));
    equal(dnat.length, PODS, "one DNAT rule per pod");
    for (const p of pods) {
      ok(
        (await linksIn(p.ns)).includes("eth0"),
        `${p.id} has its interface`,
      );
    }

    const dels = await Promise.all(
      pods.map((p) => fb.cli(["del", p.id, p.ns.path])),
    );
    dels.forEach((r, i) => equal(r.code, 0, `pod ${i}: ${explain(r)}`));
    for (const p of pods) deepEqual(await linksIn(p.ns), ["lo"], p.id);
    await fb.assertNoLeaks(ids);
    equal(net.name.length > 0, true);
  },
});
