/**
 * The temp files interrupted writes leave in the cache dir (issue 24 point
 * 1): a container's own go on its next ADD or DEL once the previous holder
 * of its lock died midway, every one goes in GC, old ones at serve
 * start-up; another container's, one that might be another's, and a fresh
 * one outside those locks stay.
 *
 * @module
 */
import { deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import { remove } from "../../src/runtime/remove.ts";
import { gc } from "../../src/runtime/gc.ts";
import {
  STALE_TEMP_AGE_MS,
  sweepStaleTemps,
} from "../../src/runtime/temp_sweep.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { listFiles } from "../_helpers/shell.ts";
import { bedFor, startServe } from "../serve/_serve.ts";

const NETNS = "/proc/self/ns/net";

async function bed(fake: FakePlugins) {
  const confDir = await fake.writeConfDir({
    "10-n.conflist": {
      cniVersion: "1.0.0",
      name: "n",
      plugins: [{ type: "a" }],
    },
  });
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    loopback: false,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

/** Writes a temp file as `writeFileAtomic` names them, in `dir` of the cache. */
async function plant(cacheDir: string, dir: string, target: string) {
  await Deno.mkdir(join(cacheDir, dir), { recursive: true });
  const name = `.${target}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(join(cacheDir, dir, name), "{");
  return `${dir}/${name}`;
}

/** What a holder killed midway leaves in its lock file: its pid. */
async function diedHolding(cacheDir: string, containerId: string) {
  await Deno.mkdir(join(cacheDir, "locks", "containers"), { recursive: true });
  await Deno.writeTextFile(
    join(cacheDir, "locks", "containers", `${containerId}.lock`),
    "4194305",
  );
}

async function temps(cacheDir: string): Promise<string[]> {
  return [
    ...(await listFiles(join(cacheDir, "results"))).map((f) => `results/${f}`),
    ...(await listFiles(join(cacheDir, "cnishim", "pods"))).map((f) =>
      `cnishim/pods/${f}`
    ),
  ].filter((f) => f.endsWith(".tmp")).sort();
}

Deno.test("del after a holder died midway removes the container's own temp files, and no other's", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = await bed(fake);
  const { cacheDir } = options;
  await setup("c1", NETNS, options);
  await plant(cacheDir, "results", "n-c1-eth0");
  await plant(cacheDir, "results", "cni-loopback-c1-lo");
  await plant(cacheDir, "cnishim/pods", "c1.json");
  // Another container's, and one that could be c1's or "x-c1"'s, whose
  // lock file says it is in use.
  const other = await plant(cacheDir, "results", "n-c2-eth0");
  const otherRecord = await plant(cacheDir, "cnishim/pods", "c2.json");
  const ambiguous = await plant(cacheDir, "results", "n-x-c1-eth0");
  await diedHolding(cacheDir, "c1");
  await Deno.writeTextFile(
    join(cacheDir, "locks", "containers", "x-c1.lock"),
    "",
  );

  await remove("c1", NETNS, options);
  deepEqual(await temps(cacheDir), [other, otherRecord, ambiguous].sort());
});

Deno.test("add after a holder died midway (before anything was recorded) removes its temp files", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = await bed(fake);
  const { cacheDir } = options;
  await plant(cacheDir, "results", "n-c3-eth0");
  await plant(cacheDir, "cnishim/pods", "c3.json");
  await diedHolding(cacheDir, "c3");
  await setup("c3", NETNS, options);
  deepEqual(await temps(cacheDir), []);
  await remove("c3", NETNS, options);
});

Deno.test("gc removes every temp file (no ADD or DEL writes while it holds the GC lock); serve's start-up sweep only old ones", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = await bed(fake);
  const { cacheDir } = options;
  await setup("keep1", NETNS, options);
  await plant(cacheDir, "results", "n-keep1-eth0");
  await plant(cacheDir, "results", "n-gone-eth0");
  await plant(cacheDir, "cnishim/pods", "gone.json");
  await gc(["keep1"], options);
  deepEqual(await temps(cacheDir), []);

  const fresh = await plant(cacheDir, "results", "n-keep1-eth0");
  const old = await plant(cacheDir, "cnishim/pods", "keep1.json");
  const then = new Date(Date.now() - STALE_TEMP_AGE_MS - 60_000);
  await Deno.utime(join(cacheDir, old), then, then);
  deepEqual(await sweepStaleTemps(cacheDir, STALE_TEMP_AGE_MS), [old]);
  deepEqual(await temps(cacheDir), [fresh]);
  await remove("keep1", NETNS, options);
});

Deno.test("serve's start-up removes the cache dir's old temp files and keeps fresh ones", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags, socket } = await bedFor(fake, [{ name: "n", types: ["a"] }]);
  const { cacheDir } = fake;
  const old = await plant(cacheDir, "results", "n-dead-eth0");
  const fresh = await plant(cacheDir, "results", "n-live-eth0");
  const then = new Date(Date.now() - STALE_TEMP_AGE_MS - 60_000);
  await Deno.utime(join(cacheDir, old), then, then);
  await using serve = await startServe(socket, flags);
  const deadline = Date.now() + 10_000;
  while ((await temps(cacheDir)).includes(old) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  deepEqual(await temps(cacheDir), [fresh]);
  await serve.stop();
});
