/**
 * Cache faults on real chains: a cache entry truncated or corrupt before
 * DEL; a cache dir that is missing, read-only, not a directory, or on a
 * full disk at ADD; and a disk that fills up or turns read-only in the
 * middle of an ADD (the fault plugin does it between the real plugins).
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { cniChainName, purgePortmapRules } from "../_helpers/iptables.ts";
import { createNetns, linksIn } from "../_helpers/netns.ts";
import { mustSh, sh } from "../_helpers/shell.ts";
import { expectExit } from "../_helpers/run_cli.ts";
import { assertNoLeaks } from "../_helpers/leak_check.ts";
import {
  explain,
  FaultBed,
  faultId,
  PORTMAP,
  portMappingsFlag,
} from "./_fault_bed.ts";

interface DelOut {
  removed: { network: string; interface: string }[];
  warnings: string[];
}

/** A mount the test made; disposing unmounts it (lazily, if busy). */
async function mount(
  args: string[],
  target: string,
): Promise<AsyncDisposable> {
  await mustSh(["mount", ...args, target]);
  // (`args` ends with the source: the fs type's name or the bind source.)
  return {
    async [Symbol.asyncDispose]() {
      const out = await sh(["umount", target]);
      if (out.code !== 0) await sh(["umount", "-l", target]);
    },
  };
}

const CORRUPTIONS: {
  name: string;
  corrupt: (text: string) => string | Uint8Array;
}[] = [
  { name: "truncated in the middle", corrupt: (t) => t.slice(0, t.length / 2) },
  { name: "empty (0 bytes, as after a power loss)", corrupt: () => "" },
  {
    name: "binary garbage",
    corrupt: () => new Uint8Array([0, 0xff, 0x13, 0x37, 0x0a]),
  },
  {
    name: "JSON of the wrong shape",
    corrupt: () => '{"kind":"cniCacheV1","config":42,"cniArgs":"x"}',
  },
];

Deno.test({
  name:
    "fault: a truncated or corrupt cache entry does not stop del: everything is torn down and the entry is quarantined",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const net = await fb.network(({ bridge }) => [bridge, PORTMAP]);
    const ids: string[] = [];
    for (const c of CORRUPTIONS) {
      await t.step(c.name, async () => {
        await using ns = await createNetns("csq");
        const id = faultId("cor");
        ids.push(id);
        const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
        expectExit(add, 0, explain(add));
        const file = `${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`;
        const bad = c.corrupt(await Deno.readTextFile(file));
        if (typeof bad === "string") await Deno.writeTextFile(file, bad);
        else await Deno.writeFile(file, bad);

        const del = await fb.cli(["del", id, ns.path]);
        expectExit(del, 0, explain(del));
        const out = del.json<DelOut>();
        deepEqual(out.removed.map((r) => r.network), [
          net.name,
          "cni-loopback",
        ]);
        deepEqual(await linksIn(ns), ["lo"]);
        await fb.assertNoLeaks([id]);

        // Kept on purpose for a post-mortem, byte for byte, and said so.
        const qdir = `${fb.bed.cacheDir}/quarantine`;
        const kept = (await Array.fromAsync(Deno.readDir(qdir)))
          .map((e) => e.name).filter((n) => n.includes(`-${id}-`));
        equal(kept.length, 1, kept.join());
        const keptPath = `${qdir}/${kept[0]}`;
        deepEqual(
          await Deno.readFile(keptPath),
          typeof bad === "string" ? new TextEncoder().encode(bad) : bad,
        );
        equal((await Deno.stat(keptPath)).mode! & 0o777, 0o600);
        ok(
          out.warnings.some((w) => w.includes(keptPath)),
          `a warning names ${keptPath}: ${out.warnings}`,
        );
        match(del.stderr, /quarantine/);
      });
    }

    await t.step(
      "the pod record is corrupt too: all but portmap's rules go, and del says why",
      async () => {
        await using ns = await createNetns("csq");
        const id = faultId("cor2");
        ids.push(id);
        const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
        expectExit(add, 0, explain(add));
        await Deno.writeTextFile(
          `${fb.bed.cacheDir}/results/${net.name}-${id}-eth0`,
          "{",
        );
        await Deno.writeTextFile(
          `${fb.bed.cacheDir}/cnishim/pods/${id}.json`,
          "{",
        );
        const del = await fb.cli(["del", id, ns.path]);
        expectExit(del, 0, explain(del));
        deepEqual(await linksIn(ns), ["lo"]);
        const out = del.json<DelOut>();
        ok(
          out.warnings.some((w) =>
            w.includes("without its runtime args") && w.includes("portmap")
          ),
          out.warnings.join("\n"),
        );
        // The port mappings were only in the two lost files, and portmap
        // removes its chain only when told them again: the one known
        // leftover, removed here by hand.
        const leaks = await fb.leaks([id]);
        const chain = await cniChainName(net.name, id, "DN-");
        ok(leaks.iptables.length > 0);
        ok(
          leaks.iptables.every((l) => l.includes(chain)),
          leaks.iptables.join(),
        );
        deepEqual(await purgePortmapRules([id]), [chain]);
        await fb.assertNoLeaks([id]);
      },
    );
    await fb.assertNoLeaks(ids);
  },
});

Deno.test({
  name:
    "fault: a missing cache dir is created at ADD with mode 0700 (every level) and files 0600",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    await fb.network(({ bridge }) => [bridge, PORTMAP]);
    const top = `${fb.root}/missing`;
    const cacheDir = `${top}/deeper/cache`;
    await using ns = await createNetns("csd");
    const id = faultId("mkd");
    const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()], {
      cacheDir,
    });
    expectExit(add, 0, explain(add));
    for (
      const dir of [
        top,
        `${top}/deeper`,
        cacheDir,
        `${cacheDir}/results`,
        `${cacheDir}/locks`,
        `${cacheDir}/cnishim/pods`,
      ]
    ) {
      equal((await Deno.stat(dir)).mode! & 0o777, 0o700, dir);
    }
    for await (const e of Deno.readDir(`${cacheDir}/results`)) {
      equal(
        (await Deno.stat(`${cacheDir}/results/${e.name}`)).mode! & 0o777,
        0o600,
      );
    }
    const del = await fb.cli(["del", id, ns.path], { cacheDir });
    expectExit(del, 0, explain(del));
    await fb.assertNoLeaks([id], cacheDir);
  },
});

Deno.test({
  name:
    "fault: a cache dir that is read-only, a file, or on a full disk fails the ADD before any plugin runs, leaving nothing",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    await using fb = await FaultBed.create();
    await fb.network(({ bridge, fault }) => [fault(), bridge, PORTMAP]);

    const expectNothingRan = async (
      cacheDir: string,
      msg: RegExp,
    ): Promise<void> => {
      await using ns = await createNetns("csr");
      const id = faultId("ro");
      const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()], {
        cacheDir,
      });
      equal(add.code, 1, explain(add));
      const error = add.json<{ code: number; msg: string }>();
      equal(error.code, 5, error.msg);
      match(error.msg, msg);
      deepEqual(await fb.calls(), [], "no plugin ran");
      deepEqual(await linksIn(ns), ["lo"]);
      await fb.assertNoLeaks([id], cacheDir);
    };

    await t.step("read-only bind mount", async () => {
      const cacheDir = `${fb.root}/ro-cache`;
      await Deno.mkdir(cacheDir, { mode: 0o700 });
      await using _ro = await mount(["--bind", cacheDir], cacheDir);
      await mustSh(["mount", "-o", "remount,ro,bind", cacheDir]);
      await expectNothingRan(cacheDir, /Read-only file system/i);
      deepEqual(await Array.fromAsync(Deno.readDir(cacheDir)), []);
    });

    await t.step("a regular file where the dir should be", async () => {
      const cacheDir = `${fb.root}/file-cache`;
      await Deno.writeTextFile(cacheDir, "not a dir");
      await expectNothingRan(cacheDir, /file-cache/);
      equal(await Deno.readTextFile(cacheDir), "not a dir");
    });

    await t.step("a full tmpfs", async () => {
      const cacheDir = `${fb.root}/full-cache`;
      await Deno.mkdir(cacheDir);
      await using _tmpfs = await mount(
        ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"],
        cacheDir,
      );
      await sh(["dd", "if=/dev/zero", `of=${cacheDir}/filler`, "bs=4k"]);
      await expectNothingRan(cacheDir, /No space left on device/i);
    });
  },
});

Deno.test({
  name:
    "fault: the disk filling up or turning read-only in the middle of an ADD fails it with a rollback that leaves no veth, IP or rule",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();

    await t.step("disk full before the result is cached", async () => {
      await using fb = await FaultBed.create();
      const cacheDir = `${fb.root}/small-cache`;
      await Deno.mkdir(cacheDir);
      await using _tmpfs = await mount(
        ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs"],
        cacheDir,
      );
      await fb.network(({ bridge, fault }) => [
        bridge,
        PORTMAP,
        fault({ ADD: { fill: `${cacheDir}/filler` } }),
      ]);
      await using ns = await createNetns("csw");
      const id = faultId("full");
      const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()], {
        cacheDir,
      });
      equal(add.code, 1, explain(add));
      const error = add.json<{ code: number; msg: string }>();
      equal(error.code, 5, error.msg);
      match(error.msg, /Cannot cache the result .*No space left on device/);
      deepEqual(await linksIn(ns), ["lo"]);
      await fb.assertNoLeaks([id], cacheDir);
    });

    await t.step("results dir turned read-only midway", async () => {
      await using fb = await FaultBed.create();
      const results = `${fb.bed.cacheDir}/results`;
      await using _unmount = {
        async [Symbol.asyncDispose]() {
          await sh(["umount", results]);
        },
      };
      // (Not the whole cache dir: the kernel refuses a read-only remount
      // while cnishim holds its lock file open for writing.)
      await fb.network(({ bridge, fault }) => [
        bridge,
        PORTMAP,
        fault({ ADD: { remountRo: results } }),
      ]);
      await using ns = await createNetns("csw");
      const id = faultId("flip");
      const add = await fb.cli(["add", id, ns.path, ...portMappingsFlag()]);
      equal(add.code, 1, explain(add));
      const error = add.json<{ code: number; msg: string }>();
      match(error.msg, /Cannot cache the result .*Read-only file system/);
      deepEqual(await linksIn(ns), ["lo"]);
      // The host is clean; only the records a read-only disk cannot lose
      // remain, and the next del (disk writable again) removes them.
      const leaks = await fb.leaks([id]);
      assertNoLeaks({ ...leaks, cache: [], podRecords: [], locks: [] });
      await mustSh(["umount", results]);
      const del = await fb.cli(["del", id, ns.path]);
      expectExit(del, 0, explain(del));
      await fb.assertNoLeaks([id]);
    });
  },
});
