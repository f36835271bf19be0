import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { getConfig, load, remove, setup } from "../../mod.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

const NETNS = "/proc/self/ns/net";

Deno.test("load() binds the conf dir as it is now: setup and remove use that set after the files changed, and getConfig() shows it", async () => {
  await using fake = await FakePlugins.create(["a", "b", "loopback"]);
  const confDir = await fake.writeConfDir({
    "10-first.conflist": {
      cniVersion: "1.0.0",
      name: "first",
      plugins: [{ type: "a" }],
    },
  });
  await Deno.writeTextFile(join(confDir, "20-bad.conf"), "{");
  const options = {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
  const cni = await load(options);

  const config = await getConfig(cni);
  equal(config.confDir, confDir);
  deepEqual(config.binDirs, [fake.binDir]);
  equal(config.cacheDir, fake.cacheDir);
  equal(config.defaultNetwork, "first");
  deepEqual(config.networks.map((n) => n.name), ["first"]);
  deepEqual(config.skipped.map((s) => s.file), [join(confDir, "20-bad.conf")]);
  equal(config.loopback?.plugins[0]?.type, "loopback");

  // A file written after load() is not seen until the next load().
  await Deno.writeTextFile(
    join(confDir, "00-later.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "later",
      plugins: [{ type: "b" }],
    }),
  );
  const result = await setup("ld1", NETNS, cni);
  deepEqual(result.networks.map((n) => n.name), ["first"]);
  await remove("ld1", NETNS, cni);
  equal((await getConfig(await load(options))).defaultNetwork, "later");
  equal((await getConfig(options)).defaultNetwork, "later", "no load: a scan");
  deepEqual(
    (await fake.calls()).map((c) => c.type).filter((t) => t !== "loopback"),
    ["a", "a"],
  );
});

Deno.test("load() refuses a missing conf dir and one without a valid network, naming it", async () => {
  await using fake = await FakePlugins.create([]);
  const missing = join(fake.root, "none");
  await rejects(
    load({ confDir: missing }),
    (e: CniError) =>
      e.code === 11 && e.message.includes(`"${missing}" does not exist`),
  );
  const empty = join(fake.root, "empty");
  await Deno.mkdir(empty);
  await Deno.writeTextFile(join(empty, "10-x.conf"), "{");
  await rejects(
    load({ confDir: empty }),
    (e: CniError) =>
      e.code === 11 && e.message.includes("no valid network config") &&
      e.message.includes("10-x.conf"),
  );
});
