/**
 * The meta plugin end to end, ADD that fails: backend faults, a missing
 * pod name, a failing or hanging delegate, a missing plugin; nothing is
 * left behind.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { linkExists, linksIn } from "../../_helpers/netns.ts";
import { MetaBed } from "../_meta_bed.ts";
import { leftoverProcesses } from "../../_helpers/processes.ts";
import { auditLeaks, cid, expectError, netns, real } from "./_meta.ts";

interface Fault {
  name: string;
  code: number;
  setup(bed: MetaBed, id: string): Promise<void> | void;
  message?: RegExp;
}

const FAULTS: Fault[] = [
  {
    name: "backend refused",
    code: 11,
    setup: (bed) => bed.stopBackend(),
    message: /Cannot reach the backend/,
  },
  {
    name: "HTTP 500 with HTML",
    code: 11,
    setup(bed) {
      bed.mode = { kind: "status", status: 500, body: "<html>oops</html>" };
    },
    message: /HTTP 500/,
  },
  {
    name: "code 1 with a message",
    code: 11,
    setup(bed) {
      bed.mode = { kind: "json", body: { code: 1, message: "pod is offline" } };
    },
    message: /pod is offline/,
  },
  {
    name: "not JSON",
    code: 6,
    setup(bed) {
      bed.mode = { kind: "status", status: 200, body: "{not json" };
    },
  },
  {
    name: "empty data",
    code: 7,
    setup(bed) {
      bed.mode = { kind: "json", body: { code: 0, data: [] } };
    },
  },
  {
    name: "zero masters",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [
        bed.entry(0, 20, "eth0", false),
        bed.entry(1, 20, "net0", false),
      ]);
    },
    message: /exactly one network must have "master": true, found 0/,
  },
  {
    name: "two masters",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [
        bed.entry(0, 21, "eth0", true),
        bed.entry(1, 21, "net0", true),
      ]);
    },
    message: /found 2/,
  },
  {
    name: "duplicate ifName",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [
        bed.entry(0, 22, "eth0", true),
        bed.entry(1, 22, "eth0", false),
      ]);
    },
    message: /"eth0" appears twice/,
  },
  {
    name: "non-contiguous mask (Dockin would make it /0)",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [bed.entry(0, 23, "eth0", true, "255.0.255.0")]);
    },
    message: /subnetMask "255\.0\.255\.0"/,
  },
  {
    name: "garbage mask",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [bed.entry(0, 24, "eth0", true, "fffff")]);
    },
  },
  {
    name: "no config file for a network",
    code: 7,
    setup(bed, id) {
      bed.pods.set(id, [
        bed.entry(0, 25, "eth0", true),
        { ...bed.entry(1, 25, "net0", false), type: "nosuchnet" },
      ]);
    },
    message: /No network config named "nosuchnet"/,
  },
  {
    name: "hang past the timeout",
    code: 11,
    setup(bed) {
      bed.mode = { kind: "hang" };
    },
    message: /did not answer within 1000 ms/,
  },
];

Deno.test({
  ...real,
  name: "meta plugin: backend faults leave only lo in the netns and no record",
  async fn(t) {
    await requireRealParts();
    for (const fault of FAULTS) {
      await t.step(fault.name, async () => {
        await using bed = await MetaBed.create(2);
        await using ns = await netns();
        const id = cid("fault");
        await fault.setup(bed, id);
        const started = Date.now();
        const add = await bed.invoke("ADD", id, ns);
        const msg = expectError(add, fault.code, fault.name);
        if (fault.message) match(msg, fault.message);
        // The configured 1000 ms, not Dockin's 5 s (and never forever).
        ok(Date.now() - started < 4500, "ADD returned within the timeout");
        deepEqual(await linksIn(ns), ["lo"]);
        await bed.assertClean();
        deepEqual(await bed.records(), []);
      });
    }
  },
});

Deno.test({
  ...real,
  name: "meta plugin: a missing K8S_POD_NAME is a clear error and asks nothing",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(1);
    await using ns = await netns();
    const add = await bed.invoke("ADD", cid("noname"), ns, { podName: null });
    match(expectError(add, 4, "ADD"), /K8S_POD_NAME/);
    deepEqual(bed.requests, []);
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name: "meta plugin: a failing second delegate rolls the first back",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("mid");
    // The bridge fails adding a route via a gateway outside the subnet, after
    // it created the veth: both delegates must be undone.
    bed.pods.set(id, [
      bed.entry(0, 30, "eth0", true),
      { ...bed.entry(1, 30, "net0", false), gateway: "192.0.2.1" },
    ]);
    const add = await bed.invoke("ADD", id, ns);
    expectError(add, 999, "ADD");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
    const log = await Deno.readTextFile(bed.logFile);
    match(log, /rolling back/);
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: pluginTimeoutMs kills a hanging delegate (and what it forked) and rolls the first one back",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(1);
    // A delegate whose ADD forks a sleep and waits for it; its DEL is a no-op.
    await Deno.writeTextFile(
      `${bed.binDir}/hang`,
      '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] || exit 0\nsleep 600\n',
      { mode: 0o755 },
    );
    await bed.addNetwork("1.0.0", { type: "hang" });
    await using ns = await netns();
    const id = cid("slow");
    bed.pods.set(id, [
      bed.entry(0, 50, "eth0", true),
      bed.entry(1, 50, "net0", false),
    ]);
    const add = await bed.invoke("ADD", id, ns, {
      config: bed.metaConfig({ pluginTimeoutMs: 700 }),
    });
    const msg = expectError(add, 11, "ADD");
    match(msg, /Plugin "hang" \(ADD\) was killed after the timeout of 700 ms/);
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
    deepEqual(await leftoverProcesses([bed.root], [id]), []);
    match(await Deno.readTextFile(bed.logFile), /rolling back/);
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: a plugin missing from the bin dirs (delegate type, IPAM type, conflist member) fails ADD with code 5 before anything runs or is recorded",
  async fn(t) {
    await requireRealParts();
    const cases: [
      string,
      (bed: MetaBed) => Promise<Record<string, unknown>>,
    ][] = [
      [
        "the IPAM type",
        (bed) => Promise.resolve(bed.metaConfig({ ipamType: "no-such-ipam" })),
      ],
      ["the delegate's type", async (bed) => {
        await bed.writeNetwork(bed.networks[1]!, "1.0.0", {
          type: "no-such-main",
        });
        return bed.metaConfig();
      }],
      ["a plugin of a delegate conflist", async (bed) => {
        const net = bed.networks[1]!;
        await Deno.remove(net.file);
        await Deno.writeTextFile(
          `${bed.confDir}/20-${net.name}.conflist`,
          JSON.stringify({
            cniVersion: "1.0.0",
            name: net.name,
            plugins: [
              { type: "bridge", bridge: net.bridge, ipam: {} },
              { type: "no-such-chained" },
            ],
          }),
        );
        return bed.metaConfig();
      }],
    ];
    for (const [name, prepare] of cases) {
      await t.step(name, async () => {
        await using bed = await MetaBed.create(2);
        await using ns = await netns();
        const id = cid("missing");
        bed.pods.set(id, [
          bed.entry(0, 61, "eth0", true),
          bed.entry(1, 61, "net0", false),
        ]);
        const config = await prepare(bed);
        const add = await bed.invoke("ADD", id, ns, { config });
        const msg = expectError(add, 5, "ADD");
        match(msg, /Cannot find plugin "no-such-[a-z]+"/);
        ok(msg.includes(bed.binDir), `names the bin dirs: ${msg}`);
        deepEqual(await linksIn(ns), ["lo"]);
        for (const n of bed.networks) {
          equal(await linkExists(n.bridge), false, "no delegate ran");
        }
        deepEqual(await bed.records(), []);
        await bed.assertClean();
      });
    }
  },
});

Deno.test({
  ...real,
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
