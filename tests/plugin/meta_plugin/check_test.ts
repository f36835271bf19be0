/**
 * The meta plugin end to end, CHECK: against what ADD returned and what the
 * netns holds.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { equal, match } from "node:assert/strict";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { sh } from "../../_helpers/shell.ts";
import { MetaBed } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, expectError, netns, real } from "./_meta.ts";

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
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
