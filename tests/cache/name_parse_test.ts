import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { remove } from "../../src/runtime/remove.ts";
import { scanCacheEntries } from "../../src/cache/result_cache.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

// Fake plugins never enter it, but teardown wants a netns path.
const NETNS = "/proc/self/ns/net";
const LEGACY = JSON.stringify({
  cniVersion: "0.3.1",
  ips: [{ version: "4", address: "10.9.0.2/24" }],
});

async function bed(fake: FakePlugins, names: string[]) {
  const files: Record<string, unknown> = {};
  for (const name of names) {
    files[`10-${name}.conflist`] = {
      cniVersion: "1.0.0",
      name,
      plugins: [{ type: "a" }],
    };
  }
  const confDir = await fake.writeConfDir(files);
  await Deno.mkdir(join(fake.cacheDir, "results"), {
    recursive: true,
    mode: 0o700,
  });
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    loopback: false,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

Deno.test("del x leaves alone a legacy entry whose name also parses as container x-y's", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = await bed(fake, ["n"]);
  // libcni 0.7 wrote container x-y's attachment (n, eth0) here; read for
  // container x it is (n, y-eth0) just as well.
  const file = join(fake.cacheDir, "results", "n-x-y-eth0");
  await Deno.writeTextFile(file, LEGACY);
  await remove("x", NETNS, options);
  deepEqual(await fake.calls(), [], "no plugin ran for container x");
  equal(await Deno.readTextFile(file), LEGACY, "the entry is untouched");
  deepEqual((await scanCacheEntries(fake.cacheDir, "x")).legacy, []);
  // Container x-y's own DEL still finds it: x-y holds x, not the reverse.
  await remove("x-y", NETNS, options);
  deepEqual(
    (await fake.calls()).map((c) => [c.command, c.env.CNI_CONTAINERID]),
    [["DEL", "x-y"]],
  );
  equal(await Deno.lstat(file).then(() => true, () => false), false);
});

Deno.test("an unreadable entry whose name parses one way among today's networks is still torn down, dashes and all", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = await bed(fake, ["k8s-pod-network"]);
  const id = "4f1c2a9e0b7d4f1c2a9e0b7d";
  const file = join(fake.cacheDir, "results", `k8s-pod-network-${id}-eth0`);
  await Deno.writeTextFile(file, "{");
  const report = await remove(id, NETNS, options);
  deepEqual(report.removed, [{
    network: "k8s-pod-network",
    interface: "eth0",
  }]);
  const calls = await fake.calls();
  deepEqual(calls.map((c) => [c.command, c.env.CNI_CONTAINERID]), [[
    "DEL",
    id,
  ]]);
  ok(!(await Deno.lstat(file).then(() => true, () => false)), "gone");
});
