/**
 * The meta plugin end to end, STATUS and GC: STATUS follows the backend; GC
 * drops only stale records.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { deepEqual } from "node:assert/strict";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { linksIn } from "../../_helpers/netns.ts";
import { MetaBed } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, expectError, netns, real } from "./_meta.ts";

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
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
