/**
 * State that went missing or a rollback that failed, on the real chain
 * (bridge + host-local + portmap + tuning) in real namespaces (issue 24,
 * points 2 and 5): nothing of the pod may be left behind, and nothing may
 * be undone twice.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { createNetns, linksIn } from "../_helpers/netns.ts";
import { expectExit } from "../_helpers/run_cli.ts";
import {
  explain,
  FaultBed,
  faultId,
  PORTMAP,
  portMappingsFlag,
} from "./_fault_bed.ts";

const TUNING = {
  type: "tuning",
  sysctl: { "net.ipv4.conf.eth0.arp_filter": "1" },
};

Deno.test({
  name:
    "fault: a pod record listing an attachment whose cache entry is gone: check reports it failed, del tears it down with today's conf file",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const net = await fb.network(({ bridge }) => [bridge, PORTMAP, TUNING]);
    await using ns = await createNetns("cls");
    const id = faultId("gone");
    const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
    expectExit(add, 0, explain(add));
    const mid = await fb.leaks([id]);
    ok(mid.iptables.length > 0, "portmap's DNAT chain exists");
    await Deno.remove(`${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`);

    const check = await fb.cli(["check", id, ns.path]);
    expectExit(check, 1, explain(check));
    match(check.stdout, new RegExp(`network \\\\"${net.name}\\\\" \\(eth0\\)`));
    match(check.stdout, /cache entry is gone/);

    const del = await fb.cli(["del", id, ns.path]);
    expectExit(del, 0, explain(del));
    deepEqual(
      del.json<{ removed: { network: string }[] }>().removed.map((r) =>
        r.network
      ),
      [net.name, "cni-loopback"],
    );
    deepEqual(await linksIn(ns), ["lo"]);
    // veth, IP, portmap's rules (from the record's port mappings), record.
    await fb.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "fault: a recorded attachment without a cache entry whose conf file is gone too is reported as not deletable, naming it, and the record kept for a retry",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const net = await fb.network(({ bridge }) => [bridge, PORTMAP, TUNING]);
    await using ns = await createNetns("cls");
    const id = faultId("noconf");
    const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
    expectExit(add, 0, explain(add));
    await Deno.remove(`${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`);
    const saved = `${fb.root}/saved.conflist`;
    await Deno.rename(net.file, saved);

    const del = await fb.cli(["del", id, ns.path]);
    expectExit(del, 1, explain(del));
    match(
      del.stderr,
      new RegExp(
        `network "${net.name}" \\(eth0\\): the pod record lists it but its cache entry is gone .*not deletable`,
      ),
    );
    const left = await fb.leaks([id]);
    deepEqual(left.podRecords, [`${id}.json`], "kept for a retry");
    equal(left.veths.length, 1, "nothing was torn down without a config");

    await Deno.rename(saved, net.file);
    const retry = await fb.cli(["del", id, ns.path]);
    expectExit(retry, 0, explain(retry));
    deepEqual(await linksIn(ns), ["lo"]);
    await fb.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "fault: a failed ADD whose rollback fails runs that rollback once and says so once; the entry and record stay for the runtime's DEL, which cleans up",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const marker = `${fb.root}/del-failed.pid`;
    const net = await fb.network(({ bridge, fault }) => [
      bridge,
      PORTMAP,
      fault({
        ADD: { error: { code: 11, msg: "add refused" } },
        DEL: { marker, once: true, error: { code: 11, msg: "del refused" } },
      }),
    ]);
    await using ns = await createNetns("cls");
    const id = faultId("rbk");
    const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
    expectExit(add, 1, explain(add));
    const dels = (await fb.calls()).filter((c) => c.startsWith("fault DEL"));
    equal(dels.length, 1, `the rollback ran once: ${dels.join("; ")}`);
    const msg = add.json<{ msg: string }>().msg;
    equal(msg.split("del refused").length - 1, 1, msg);
    equal(msg.split("add refused").length - 1, 1, msg);
    equal(add.stderr.trim().split("\n").length, 1, add.stderr);
    const left = await fb.leaks([id]);
    ok(left.cache.includes(`${net.name}-${id}-eth0`), left.cache.join());
    deepEqual(left.podRecords, [`${id}.json`]);
    equal(
      left.veths.length,
      1,
      "the bridge below the failed DEL kept its veth",
    );

    const del = await fb.cli(["del", id, ns.path]);
    expectExit(del, 0, explain(del));
    await fb.assertNoLeaks([id]);
  },
});
