/**
 * The meta plugin end to end, ADD: the backend's addresses on each NIC, the
 * result in the meta version, cnishim's static IPAM as a delegate, the log
 * level, JSONC conf files.
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
import { addressesIn, linksIn } from "../../_helpers/netns.ts";
import { MetaBed, routesIn } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, expectError, netns, real } from "./_meta.ts";

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
  fn: auditLeaks,
});
