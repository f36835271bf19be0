import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

Deno.test("setup() with a plugin missing from the bin dirs fails before any plugin runs or anything is written", async () => {
  await using fake = await FakePlugins.create(["a", "b", "loopback"]);
  const confDir = join(fake.root, "net.d");
  await Deno.mkdir(confDir);
  await Deno.writeTextFile(
    join(confDir, "10-n.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "n",
      plugins: [{ type: "a" }, { type: "missing" }],
    }),
  );
  await rejects(
    setup("c4", "/var/run/netns/x", {
      binDirs: [fake.binDir],
      cacheDir: fake.cacheDir,
      confDir,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    }),
    (e: CniError) => e.code === 5 && /"missing"/.test(e.message),
  );
  deepEqual(await fake.calls(), [], "not even loopback ran");
  equal(
    await Deno.lstat(fake.cacheDir).then(() => "written", () => "nothing"),
    "nothing",
  );
});
