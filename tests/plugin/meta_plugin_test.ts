/**
 * The meta plugin end to end, invoked as a runtime invokes a plugin
 * (`<binDir>/dockin-cni` with CNI_* variables and the config on stdin),
 * delegating to Debian's real `bridge` + `static` in real namespaces, with
 * a `Deno.serve` backend on 127.0.0.1. Covers the list of
 * shared/docs/dockin.md §4.7.
 *
 * @module
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { dirname } from "node:path";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import {
  addressesIn,
  createNetns,
  linkExists,
  linksIn,
  type Netns,
} from "../_helpers/netns.ts";
import { listFiles, randomHex, sh } from "../_helpers/shell.ts";
import {
  MADE,
  MetaBed,
  type MetaNetwork,
  type PluginRun,
  routesIn,
} from "./_meta_bed.ts";
import { DEFAULT_META_CACHE_DIR } from "../../src/plugin/meta_config.ts";
import { leftoverProcesses } from "../_helpers/processes.ts";
import { expectExit } from "../_helpers/run_cli.ts";

const real = { ignore: SKIP_REAL_PARTS, sanitizeResources: true };

function cid(tag: string): string {
  return `meta-${randomHex(8)}-${tag}`;
}

async function netns(): Promise<Netns> {
  const ns = await createNetns("csm");
  MADE.netns.add(ns.name);
  return ns;
}

function expectError(run: PluginRun, cniCode: number, what: string): string {
  expectExit(run, 1, what);
  const obj = run.json();
  equal(obj.code, cniCode, `${what}: ${run.stdout}`);
  equal(run.stdout.trim().split("\n").length, 1, "one error object on stdout");
  return String(obj.msg);
}

Deno.test({
  ...real,
  name:
    "meta plugin: single master gets the backend's address, a default route and the meta version",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(1);
    await using ns = await netns();
    const id = cid("single");
    const pod = "web 0&x";
    bed.pods.set(pod, [bed.entry(0, 10, "eth0", true, "ffffff00")]);
    const add = await bed.invoke("ADD", id, ns, {
      podName: pod,
      config: bed.metaConfig({ cniVersion: "0.4.0" }),
    });
    expectExit(add, 0, "ADD");
    const result = add.json();
    equal(result.cniVersion, "0.4.0");
    const net = bed.networks[0]!;
    deepEqual(
      (result.ips as Record<string, unknown>[]).map((i) => [
        i.version,
        i.address,
        i.gateway,
      ]),
      [["4", `${net.subnet.base}.10/24`, net.subnet.gateway]],
    );
    deepEqual(await linksIn(ns), ["eth0", "lo"]);
    deepEqual(await addressesIn(ns, "eth0"), [`${net.subnet.base}.10/24`]);
    ok(
      (await routesIn(ns)).some((r) =>
        r.startsWith(`default via ${net.subnet.gateway} dev eth0`)
      ),
      "default route via the gateway",
    );
    deepEqual(bed.requests.map((u) => new URL(u).search), [
      "?podName=web%200%26x",
    ]);
    deepEqual(await bed.records(), [`dockin-${id}-eth0.json`]);
    deepEqual(await bed.resultFiles(), [`${net.name}-${id}-eth0`]);
    const record = JSON.parse(
      await Deno.readTextFile(`${bed.cacheDir}/dockin-${id}-eth0.json`),
    );
    equal(record.delegates[0].state, "added");
    equal(record.delegates[0].config.ipam.type, "static");
    equal(
      (await Deno.stat(`${bed.cacheDir}/dockin-${id}-eth0.json`)).mode! & 0o777,
      0o600,
    );

    const del = await bed.invoke("DEL", id, ns, { podName: pod });
    expectExit(del, 0, "DEL");
    equal(del.stdout, "");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
    equal(bed.requests.length, 1, "DEL did not ask the backend");
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: eth0 (master) and net0 on two bridges with exactly the backend's addresses",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("two");
    bed.pods.set(id, [
      bed.entry(0, 11, "eth0", true),
      bed.entry(1, 12, "net0", false, "ffffff00"),
    ]);
    const add = await bed.invoke("ADD", id, ns);
    expectExit(add, 0, "ADD");
    const [a, b] = bed.networks as [
      typeof bed.networks[0],
      typeof bed.networks[0],
    ];
    deepEqual(await linksIn(ns), ["eth0", "lo", "net0"]);
    deepEqual(await addressesIn(ns, "eth0"), [`${a.subnet.base}.11/24`]);
    deepEqual(await addressesIn(ns, "net0"), [`${b.subnet.base}.12/24`]);
    const result = add.json();
    equal(result.cniVersion, "1.0.0");
    deepEqual(
      (result.ips as Record<string, unknown>[]).map((i) => i.address),
      [`${a.subnet.base}.11/24`],
      "the result is the master's only",
    );
    equal((await bed.veths()).length, 2);
    const record = JSON.parse(
      await Deno.readTextFile(`${bed.cacheDir}/dockin-${id}-eth0.json`),
    );
    deepEqual(
      record.delegates.map((
        d: Record<string, unknown>,
      ) => [d.ifName, d.master, d.state]),
      [["eth0", true, "added"], ["net0", false, "added"]],
    );
    const del = await bed.invoke("DEL", id, ns);
    expectExit(del, 0, "DEL");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: delegates can use cnishim's own static IPAM; logs stay off stdout",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    await Deno.symlink("cnishim-wrapper", `${bed.binDir}/cnishim-static`);
    const id = cid("ownipam");
    bed.pods.set(id, [
      bed.entry(0, 13, "eth0", true),
      bed.entry(1, 13, "net0", false),
    ]);
    // No logFile: debug lines go to stderr, stdout holds the result only.
    const { logFile: _, ...config } = bed.metaConfig({
      ipamType: "cnishim-static",
    });
    const add = await bed.invoke("ADD", id, ns, { config });
    expectExit(add, 0, "ADD");
    equal(add.stdout.trim().split("\n").length, 1);
    equal(add.json().cniVersion, "1.0.0");
    match(add.stderr, /debug called/);
    deepEqual(await addressesIn(ns, "net0"), [
      `${bed.networks[1]!.subnet.base}.13/24`,
    ]);
    const record = JSON.parse(
      await Deno.readTextFile(`${bed.cacheDir}/dockin-${id}-eth0.json`),
    );
    equal(record.delegates[1].config.ipam.type, "cnishim-static");
    const del = await bed.invoke("DEL", id, ns, { config });
    expectExit(del, 0, "DEL");
    equal(del.stdout, "");
    await bed.assertClean();
  },
});

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
    "meta plugin: DEL after the backend stopped removes both NICs without asking it",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("down");
    bed.pods.set(id, [
      bed.entry(0, 40, "eth0", true),
      bed.entry(1, 40, "net0", false),
    ]);
    expectExit(await bed.invoke("ADD", id, ns), 0, "ADD");
    await bed.stopBackend();
    const asked = bed.requests.length;
    const del = await bed.invoke("DEL", id, ns);
    expectExit(del, 0, "DEL");
    equal(bed.requests.length, asked, "zero backend requests during DEL");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
    // DEL twice, and DEL of a container never seen, with the backend down.
    expectExit(await bed.invoke("DEL", id, ns), 0, "second DEL");
    const unknown = await bed.invoke("DEL", cid("never"), ns);
    expectExit(unknown, 0, "DEL of an unknown container");
    equal(unknown.stdout, "");
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: DEL after the netns is gone succeeds and drops the record",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    const ns = await netns();
    await using _ns = ns;
    const id = cid("gone");
    bed.pods.set(id, [
      bed.entry(0, 41, "eth0", true),
      bed.entry(1, 41, "net0", false),
    ]);
    expectExit(await bed.invoke("ADD", id, ns), 0, "ADD");
    await sh(["ip", "netns", "del", ns.name]);
    const del = await bed.invoke("DEL", id, undefined, { netns: ns.path });
    expectExit(del, 0, "DEL");
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name: "meta plugin: DEL uses the recorded configs after the files changed",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("drift");
    bed.pods.set(id, [
      bed.entry(0, 42, "eth0", true),
      bed.entry(1, 42, "net0", false),
    ]);
    expectExit(await bed.invoke("ADD", id, ns), 0, "ADD");
    // One file now points at another bridge, the other is gone.
    await bed.writeNetwork(bed.networks[0]!, "1.0.0", { bridge: "csnone" });
    await Deno.remove(bed.networks[1]!.file);
    expectExit(await bed.invoke("DEL", id, ns), 0, "DEL");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name: "meta plugin: a corrupt record is quarantined and DEL still cleans up",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("corrupt");
    bed.pods.set(id, [
      bed.entry(0, 43, "eth0", true),
      bed.entry(1, 43, "net0", false),
    ]);
    expectExit(await bed.invoke("ADD", id, ns), 0, "ADD");
    const path = `${bed.cacheDir}/dockin-${id}-eth0.json`;
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.slice(0, text.length / 2));
    // Without the record, DEL asks the backend (best effort) for the networks.
    expectExit(await bed.invoke("DEL", id, ns), 0, "DEL");
    deepEqual(await bed.records(), [`dockin-${id}-eth0.json.corrupt`]);
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();

    // Corrupt again with the backend down: still success.
    const id2 = cid("corrupt2");
    bed.pods.set(id2, [bed.entry(0, 44, "eth0", true)]);
    expectExit(await bed.invoke("ADD", id2, ns), 0, "ADD 2");
    await Deno.writeTextFile(`${bed.cacheDir}/dockin-${id2}-eth0.json`, "");
    await bed.stopBackend();
    expectExit(await bed.invoke("DEL", id2, ns), 0, "DEL 2");
    ok((await bed.records()).includes(`dockin-${id2}-eth0.json.corrupt`));
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: CHECK passes after ADD, fails on a prevResult ADD did not return and once net0 lost its address",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("check");
    bed.pods.set(id, [
      bed.entry(0, 45, "eth0", true),
      bed.entry(1, 45, "net0", false),
    ]);
    const add = await bed.invoke("ADD", id, ns);
    expectExit(add, 0, "ADD");
    const prevResult = add.json();
    const config = { ...bed.metaConfig(), prevResult };
    const check = await bed.invoke("CHECK", id, ns, { config });
    expectExit(check, 0, "CHECK");
    equal(check.stdout, "");
    // A prevResult that is not what ADD returned is refused, naming both.
    const ips = prevResult.ips as { address: string }[];
    const other = `${bed.entry(0, 46, "eth0", true).podIp}/24`;
    const forged = { ...prevResult, ips: [{ ...ips[0], address: other }] };
    const mismatch = await bed.invoke("CHECK", id, ns, {
      config: { ...bed.metaConfig(), prevResult: forged },
    });
    match(expectError(mismatch, 7, "CHECK, forged prevResult"), /prevResult/);
    match(String(mismatch.json().details), new RegExp(other));
    await sh([
      "ip",
      "-n",
      ns.name,
      "addr",
      "flush",
      "dev",
      "net0",
    ]);
    expectExit(await bed.invoke("CHECK", id, ns, { config }), 1, "CHECK 2");
    // CHECK below 0.4.0 is refused by the version gate.
    const old = await bed.invoke("CHECK", id, ns, {
      config: bed.metaConfig({ cniVersion: "0.3.1" }),
    });
    expectError(old, 1, "CHECK at 0.3.1");
    expectExit(await bed.invoke("DEL", id, ns), 0, "DEL");
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: result always in the meta version, for delegates at 0.2.0 and 1.0.0",
  async fn(t) {
    await requireRealParts();
    for (const fileVersion of ["0.2.0", "1.0.0"]) {
      await using bed = await MetaBed.create(2, fileVersion);
      for (const meta of ["0.2.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
        await t.step(`meta ${meta}, delegates ${fileVersion}`, async () => {
          await using ns = await netns();
          const id = cid("ver");
          bed.pods.set(id, [
            bed.entry(0, 50, "eth0", true),
            bed.entry(1, 50, "net0", false),
          ]);
          const config = bed.metaConfig({ cniVersion: meta });
          const add = await bed.invoke("ADD", id, ns, { config });
          expectExit(add, 0, "ADD");
          const result = add.json();
          equal(result.cniVersion, meta);
          const address = `${bed.networks[0]!.subnet.base}.50/24`;
          if (meta === "0.2.0") {
            equal((result.ip4 as Record<string, unknown>).ip, address);
          } else {
            equal(
              (result.ips as Record<string, unknown>[])[0]!.address,
              address,
            );
          }
          deepEqual(await linksIn(ns), ["eth0", "lo", "net0"]);
          expectExit(await bed.invoke("DEL", id, ns, { config }), 0, "DEL");
          deepEqual(await linksIn(ns), ["lo"]);
          await bed.assertClean();
        });
      }
    }
  },
});

Deno.test({
  ...real,
  name: "meta plugin: STATUS follows the backend; GC drops only stale records",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns1 = await netns();
    await using ns2 = await netns();
    const config = bed.metaConfig({ cniVersion: "1.1.0" });
    const [keep, drop] = [cid("keep"), cid("drop")];
    bed.pods.set(keep, [bed.entry(0, 60, "eth0", true)]);
    bed.pods.set(drop, [
      bed.entry(0, 61, "eth0", true),
      bed.entry(1, 61, "net0", false),
    ]);
    expectExit(await bed.invoke("ADD", keep, ns1, { config }), 0, "ADD keep");
    expectExit(await bed.invoke("ADD", drop, ns2, { config }), 0, "ADD drop");
    expectExit(
      await bed.invoke("STATUS", "", undefined, { config }),
      0,
      "STATUS",
    );
    const gc = await bed.invoke("GC", "", undefined, {
      config: {
        ...config,
        "cni.dev/valid-attachments": [{ containerID: keep, ifname: "eth0" }],
      },
    });
    expectExit(gc, 0, "GC");
    deepEqual(await bed.records(), [`dockin-${keep}-eth0.json`]);
    deepEqual(await linksIn(ns2), ["lo"]);
    deepEqual(await linksIn(ns1), ["eth0", "lo"]);
    await bed.stopBackend();
    expectError(
      await bed.invoke("STATUS", "", undefined, { config }),
      50,
      "STATUS down",
    );
    expectExit(await bed.invoke("DEL", keep, ns1, { config }), 0, "DEL");
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name: "meta plugin: 20 pods with 2 NICs each, added and deleted in parallel",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    const pods = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const id = cid(`par${i}`);
        bed.pods.set(id, [
          bed.entry(0, 100 + i, "eth0", true),
          bed.entry(1, 100 + i, "net0", false),
        ]);
        return { id, i, ns: await netns() };
      }),
    );
    try {
      const adds = await Promise.all(
        pods.map((p) => bed.invoke("ADD", p.id, p.ns)),
      );
      adds.forEach((run, i) => expectExit(run, 0, `ADD ${i}`));
      for (const p of pods) {
        deepEqual(await addressesIn(p.ns, "eth0"), [
          `${bed.networks[0]!.subnet.base}.${100 + p.i}/24`,
        ]);
        deepEqual(await addressesIn(p.ns, "net0"), [
          `${bed.networks[1]!.subnet.base}.${100 + p.i}/24`,
        ]);
      }
      equal((await bed.records()).length, 20);
      equal((await bed.veths()).length, 40);
      const dels = await Promise.all(
        pods.map((p) => bed.invoke("DEL", p.id, p.ns)),
      );
      dels.forEach((run, i) => expectExit(run, 0, `DEL ${i}`));
      for (const p of pods) deepEqual(await linksIn(p.ns), ["lo"]);
      await bed.assertClean();
    } finally {
      for (const p of pods) await p.ns[Symbol.asyncDispose]();
    }
  },
});

// The cache dir a config without cnishim's `cacheDir` uses; removed after
// the test, with the directories above it the test created (/var/lib/cni
// on a node without one), when it did not exist before.
async function withDefaultCacheDir(id: string): Promise<AsyncDisposable> {
  const dir = DEFAULT_META_CACHE_DIR;
  const exists = (path: string) =>
    Deno.stat(path).then(() => true, () => false);
  const existed = await exists(dir);
  let created = dir;
  while (!(await exists(dirname(created)))) created = dirname(created);
  return {
    async [Symbol.asyncDispose]() {
      if (!existed) {
        await Deno.remove(created, { recursive: true }).catch(() => {});
        return;
      }
      const results = await listFiles(`${dir}/results`);
      for (
        const f of [
          `${dir}/dockin-${id}-eth0.json`,
          `${dir}/multinet/locks/containers/${id}.lock`,
          ...results.filter((r) => r.includes(`-${id}-`)).map((r) =>
            `${dir}/results/${r}`
          ),
        ]
      ) {
        await Deno.remove(f).catch(() => {});
      }
    },
  };
}

Deno.test({
  ...real,
  name:
    "meta plugin: a Dockin node's bin dir (dockin-cni, dockin-ipam, bridge, loopback only) with an unmodified Dockin config passes ADD, CHECK and DEL",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2, "0.4.0", "dockin");
    deepEqual(
      (await Array.fromAsync(Deno.readDir(bed.binDir))).map((e) => e.name)
        .sort(),
      ["bridge", "dockin-cni", "dockin-ipam", "loopback"],
    );
    await using ns = await netns();
    const id = cid("dockin");
    await using _cache = await withDefaultCacheDir(id);
    bed.pods.set(id, [
      bed.entry(0, 60, "eth0", true),
      bed.entry(1, 60, "eth1", false),
    ]);
    // Dockin's keys and nothing of cnishim's (no ipamType, no cacheDir).
    const config = {
      cniVersion: "0.4.0",
      name: "dockin-cni",
      type: "dockin-cni",
      confDir: bed.confDir,
      binDir: bed.binDir,
      logFile: bed.logFile,
      logLevel: "debug",
      backend: bed.backendUrl,
    };
    const add = await bed.invoke("ADD", id, ns, { config });
    expectExit(add, 0, "ADD");
    const [a, b] = bed.networks as [MetaNetwork, MetaNetwork];
    deepEqual(await linksIn(ns), ["eth0", "eth1", "lo"]);
    deepEqual(await addressesIn(ns, "eth0"), [`${a.subnet.base}.60/24`]);
    deepEqual(await addressesIn(ns, "eth1"), [`${b.subnet.base}.60/24`]);
    const record = JSON.parse(
      await Deno.readTextFile(
        `${DEFAULT_META_CACHE_DIR}/dockin-cni-${id}-eth0.json`,
      ),
    );
    deepEqual(
      record.delegates.map((d: { config: { ipam: { type: string } } }) =>
        d.config.ipam.type
      ),
      ["dockin-ipam", "dockin-ipam"],
    );
    const check = await bed.invoke("CHECK", id, ns, {
      config: { ...config, prevResult: add.json() },
    });
    expectExit(check, 0, "CHECK");
    // CHECK reached the real bridge and, through it, dockin-ipam.
    await sh(["ip", "-n", ns.name, "addr", "flush", "dev", "eth1"]);
    const broken = await bed.invoke("CHECK", id, ns, {
      config: { ...config, prevResult: add.json() },
    });
    expectExit(broken, 1, "CHECK after eth1 lost its address");
    const del = await bed.invoke("DEL", id, ns, { config });
    expectExit(del, 0, "DEL");
    deepEqual(await linksIn(ns), ["lo"]);
    deepEqual(await bed.veths(), []);
    await rejects(
      Deno.stat(`${DEFAULT_META_CACHE_DIR}/dockin-cni-${id}-eth0.json`),
      Deno.errors.NotFound,
    );
    deepEqual(
      (await listFiles(DEFAULT_META_CACHE_DIR)).filter((f) => f.includes(id)),
      [],
      "no record, result or lock of the pod is left",
    );
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
  name:
    "meta plugin: an unknown logLevel logs at info with one warning instead of failing",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(1);
    await using ns = await netns();
    const id = cid("loglevel");
    bed.pods.set(id, [bed.entry(0, 62, "eth0", true)]);
    const config = bed.metaConfig({ logLevel: "chatty" });
    expectExit(await bed.invoke("ADD", id, ns, { config }), 0, "ADD");
    const lines = (await Deno.readTextFile(bed.logFile)).split("\n");
    equal(
      lines.filter((l) => l.includes('unknown "logLevel" "chatty"')).length,
      1,
    );
    ok(lines.some((l) => l.includes("delegate added")), "info is logged");
    ok(!lines.some((l) => l.includes(" debug ")), "debug is not");
    expectExit(await bed.invoke("DEL", id, ns, { config }), 0, "DEL");
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name:
    "meta plugin: confDir files are read as JSONC, and one that does not parse is named in the error",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(1);
    await using ns = await netns();
    const net = bed.networks[0]!;
    await Deno.writeTextFile(
      net.file,
      `// the Dockin document's examples carry comments
{
  "cniVersion": "1.0.0",
  "name": "${net.name}", /* the backend's type */
  "type": "bridge",
  "bridge": "${net.bridge}",
  "isGateway": true,
  "ipam": {},
}
`,
    );
    const id = cid("jsonc");
    bed.pods.set(id, [bed.entry(0, 63, "eth0", true)]);
    expectExit(await bed.invoke("ADD", id, ns), 0, "ADD");
    expectExit(await bed.invoke("DEL", id, ns), 0, "DEL");
    await bed.assertClean();

    await Deno.writeTextFile(net.file, `{"name": "${net.name}", "type": `);
    const broken = await bed.invoke("ADD", cid("broken"), ns, {
      podName: id,
    });
    const msg = expectError(broken, 7, "ADD");
    ok(msg.includes(`cannot parse ${net.file}`), msg);
    match(msg, /:1:\d+/);
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
  },
});

Deno.test({
  ...real,
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  async fn() {
    await requireRealParts();
    const netnsLeft = (await sh(["ip", "netns", "list"])).stdout.split("\n")
      .map((l) => l.split(" ")[0]!).filter((n) => MADE.netns.has(n));
    const bridgesLeft: string[] = [];
    for (const b of MADE.bridges) {
      if ((await sh(["ip", "link", "show", "dev", b])).code === 0) {
        bridgesLeft.push(b);
      }
    }
    deepEqual({ netnsLeft, bridgesLeft }, { netnsLeft: [], bridgesLeft: [] });
    ok(MADE.netns.size > 0, "the suite made namespaces");
  },
});

// Issue 24 point 4; fails before it: the second network took the first's
// record (<containerId>.json), tore its eth0 down and re-added.
Deno.test({
  ...real,
  name:
    "meta plugin: two meta networks on one pod keep one record each (network, container, interface); a legacy <containerId>.json is still torn down by DEL",
  async fn() {
    await requireRealParts();
    await using bed = await MetaBed.create(2);
    await using ns = await netns();
    const id = cid("twometa");
    bed.pods.set("pod-a", [bed.entry(0, 61, "eth0", true)]);
    bed.pods.set("pod-b", [bed.entry(1, 62, "net1", true)]);
    const second = {
      podName: "pod-b",
      ifName: "net1",
      config: bed.metaConfig({ name: "dockin-b" }),
    };
    expectExit(await bed.invoke("ADD", id, ns, { podName: "pod-a" }), 0, "A");
    expectExit(await bed.invoke("ADD", id, ns, second), 0, "B");
    deepEqual(await linksIn(ns), ["eth0", "lo", "net1"]);
    deepEqual(await bed.records(), [
      `dockin-b-${id}-net1.json`,
      `dockin-${id}-eth0.json`,
    ]);
    const log = await Deno.readTextFile(bed.logFile).catch(() => "");
    ok(!log.includes("deleting its delegates first"), "B left A alone");

    expectExit(await bed.invoke("DEL", id, ns, second), 0, "DEL B");
    deepEqual(await linksIn(ns), ["eth0", "lo"]);
    deepEqual(await bed.records(), [`dockin-${id}-eth0.json`]);

    // A record written under the old name: DEL reads it there.
    await Deno.rename(
      `${bed.cacheDir}/dockin-${id}-eth0.json`,
      `${bed.cacheDir}/${id}.json`,
    );
    // Another network's DEL leaves it alone; its own DEL tears it down.
    expectExit(await bed.invoke("DEL", id, ns, second), 0, "DEL B again");
    deepEqual(await linksIn(ns), ["eth0", "lo"]);
    deepEqual(await bed.records(), [`${id}.json`]);
    expectExit(await bed.invoke("DEL", id, ns, { podName: "pod-a" }), 0, "A");
    deepEqual(await linksIn(ns), ["lo"]);
    await bed.assertClean();
  },
});
