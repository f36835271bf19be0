/**
 * The warm conf dir of `cnishim serve`, in-process: the same answer as a
 * cold scan, files re-read only when (mtime, size, inode) change, changes
 * seen through the watch alone, the last good set kept.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { WarmNetworks } from "../../src/serve/warm_networks.ts";
import { loadNetworks } from "../../src/config/load_networks.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { conflistText, networkNames } from "../_helpers/lists.ts";

async function confDir(): Promise<{ path: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "cnishim-warm-" });
  const path = join(root, "net.d");
  await Deno.mkdir(path);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

// Files older than the racy window are cached; backdate what we write.
async function backdate(path: string): Promise<void> {
  const old = new Date(Date.now() - 60_000);
  await Deno.utime(path, old, old);
}

Deno.test("WarmNetworks equals a cold loadNetworks of the same dir, and re-reads only the file that changed", async () => {
  await using tmp = await confDir();
  const dir = tmp.path;
  for (
    const [file, text] of [
      ["10-a.conflist", conflistText("a")],
      ["20-broken.conflist", "{ nope"],
      ["30-a.conflist", conflistText("a")], // a duplicate name
      ["40-b.conf", conflistText("b")],
      ["50-Bad.conflist", conflistText("Bad")],
    ]
  ) {
    await Deno.writeTextFile(join(dir, file!), text!);
    await backdate(join(dir, file!));
  }
  await using warm = new WarmNetworks(dir, { rescanMs: 600_000 });
  await warm.start();
  deepEqual(await warm.get(), await loadNetworks(dir));
  equal(warm.stats.reads, 5);

  await warm.rescan();
  equal(warm.stats.reads, 5, "nothing changed: nothing read");

  await Deno.writeTextFile(join(dir, "40-b.conf"), conflistText("b2"));
  await backdate(join(dir, "40-b.conf"));
  await warm.rescan();
  equal(warm.stats.reads, 6, "one file changed: one file read");
  deepEqual(networkNames(await warm.get()), ["a", "b2"]);
  deepEqual(await warm.get(), await loadNetworks(dir));

  // Same size and mtime, another inode: read again.
  const replacement = join(dir, "..", "b3.tmp");
  await Deno.writeTextFile(replacement, conflistText("b3"));
  await backdate(replacement);
  await Deno.rename(replacement, join(dir, "40-b.conf"));
  await warm.rescan();
  deepEqual(networkNames(await warm.get()), ["a", "b3"]);
});

Deno.test("WarmNetworks sees a file created, written, renamed and removed through the watch alone", async () => {
  await using tmp = await confDir();
  const dir = tmp.path;
  // The periodic rescan is out of reach: only watch events can do it.
  await using warm = new WarmNetworks(dir, { rescanMs: 600_000 });
  await warm.start();
  deepEqual(networkNames(await warm.get()), []);
  const seen = (want: string[]) => async () =>
    JSON.stringify(networkNames(await warm.get())) === JSON.stringify(want);

  await Deno.writeTextFile(join(dir, "10-x.conflist"), conflistText("x"));
  await waitFor(seen(["x"]), 3000);
  await Deno.writeTextFile(join(dir, "10-x.conflist"), conflistText("y"));
  await waitFor(seen(["y"]), 3000);
  await Deno.writeTextFile(join(dir, "x.tmp"), conflistText("z"));
  await Deno.rename(join(dir, "x.tmp"), join(dir, "05-z.conflist"));
  await waitFor(seen(["z", "y"]), 3000);
  await Deno.remove(join(dir, "05-z.conflist"));
  await waitFor(seen(["y"]), 3000);

  // The dir itself removed and made again: watched again.
  await Deno.remove(dir, { recursive: true });
  await Deno.mkdir(dir);
  await new Promise((r) => setTimeout(r, 300));
  await Deno.writeTextFile(join(dir, "10-w.conflist"), conflistText("w"));
  await waitFor(seen(["w"]), 3000);
});

Deno.test("WarmNetworks keeps the last good set when a rescan finds nothing valid, and moves on when one is valid again", async () => {
  await using tmp = await confDir();
  const dir = tmp.path;
  await Deno.writeTextFile(join(dir, "10-a.conflist"), conflistText("a"));
  await using warm = new WarmNetworks(dir, { rescanMs: 600_000 });
  await warm.start();
  const good = await warm.get();
  deepEqual(networkNames(good), ["a"]);

  await Deno.remove(join(dir, "10-a.conflist"));
  await Deno.writeTextFile(join(dir, "20-b.conflist"), "{ broken");
  await warm.rescan();
  equal(warm.stats.keptLastGood, true);
  equal((await warm.get()).networks, good.networks);
  equal((await loadNetworks(dir)).networks.length, 0, "a cold scan differs");

  await Deno.writeTextFile(join(dir, "30-c.conflist"), conflistText("c"));
  await warm.rescan();
  equal(warm.stats.keptLastGood, false);
  deepEqual(networkNames(await warm.get()), ["c"]);
  deepEqual((await warm.get()).skipped.map((s) => s.file), [
    join(dir, "20-b.conflist"),
  ]);
});

Deno.test("WarmNetworks, keeping the last good set, reports the files skipped now, not those removed since", async () => {
  await using tmp = await confDir();
  const dir = tmp.path;
  await Deno.writeTextFile(join(dir, "10-a.conflist"), conflistText("a"));
  await Deno.writeTextFile(join(dir, "20-gone.conflist"), "{ broken");
  await using warm = new WarmNetworks(dir, { rescanMs: 600_000 });
  await warm.start();
  deepEqual((await warm.get()).skipped.map((s) => s.file), [
    join(dir, "20-gone.conflist"),
  ]);

  await Deno.remove(join(dir, "20-gone.conflist"));
  await Deno.remove(join(dir, "10-a.conflist"));
  await Deno.writeTextFile(join(dir, "30-bad.conflist"), "[]");
  await warm.rescan();
  equal(warm.stats.keptLastGood, true);
  deepEqual(networkNames(await warm.get()), ["a"]);
  deepEqual((await warm.get()).skipped.map((s) => s.file), [
    join(dir, "30-bad.conflist"),
  ]);

  await Deno.remove(join(dir, "30-bad.conflist"));
  await warm.rescan();
  deepEqual(networkNames(await warm.get()), ["a"]);
  deepEqual((await warm.get()).skipped, []);
});

Deno.test("WarmNetworks.close() stops the watch and the timer (the test would hang otherwise)", async () => {
  await using tmp = await confDir();
  const dir = tmp.path;
  const warm = new WarmNetworks(dir, { rescanMs: 50 });
  await warm.start();
  await new Promise((r) => setTimeout(r, 200));
  ok(warm.stats.scans >= 2, "the periodic rescan ran");
  await warm.close();
  const scans = warm.stats.scans;
  await new Promise((r) => setTimeout(r, 200));
  equal(warm.stats.scans, scans);
});
