/**
 * The meta plugin end to end, ADD and DEL in parallel: many pods with two
 * NICs each.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { addressesIn, linksIn } from "../../_helpers/netns.ts";
import { MetaBed } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, netns, real } from "./_meta.ts";

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

Deno.test({
  ...real,
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
