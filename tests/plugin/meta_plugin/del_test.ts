/**
 * The meta plugin end to end, DEL: from the record, without the backend or
 * the netns, after the files changed, from a corrupt or a legacy record.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { linksIn } from "../../_helpers/netns.ts";
import { sh } from "../../_helpers/shell.ts";
import { MetaBed } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, netns, real } from "./_meta.ts";

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

Deno.test({
  ...real,
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
