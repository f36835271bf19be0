/**
 * The meta plugin end to end on a Dockin node's bin dir with an unmodified
 * Dockin config: ADD, CHECK, DEL.
 *
 * Invoked as a runtime invokes a plugin (`<binDir>/dockin-cni` with CNI_*
 * variables and the config on stdin), delegating to Debian's real
 * `bridge` + `static` in real namespaces, with a `Deno.serve` backend on
 * 127.0.0.1 (shared/docs/dockin.md §4.7).
 *
 * @module
 */
import { deepEqual, rejects } from "node:assert/strict";
import { dirname } from "node:path";
import { requireRealParts } from "../../_helpers/prerequisites.ts";
import { addressesIn, linksIn } from "../../_helpers/netns.ts";
import { listFiles, sh } from "../../_helpers/shell.ts";
import { MetaBed, type MetaNetwork } from "../_meta_bed.ts";
import { DEFAULT_META_CACHE_DIR } from "../../../src/plugin/meta_config.ts";
import { expectExit } from "../../_helpers/run_cli.ts";
import { auditLeaks, cid, netns, real } from "./_meta.ts";

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
  name: "meta plugin: leak audit: no namespace or bridge of this suite is left",
  fn: auditLeaks,
});
