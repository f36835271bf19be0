import { equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { addNetworkList } from "../../src/engine/add_network_list.ts";
import { delNetworkList } from "../../src/engine/del_network_list.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { makeList } from "../_helpers/lists.ts";

const RT = { containerId: "sec1", netns: "/var/run/netns/x", ifName: "eth0" };
const LIST = { cniVersion: "1.0.0", name: "sec", plugins: [{ type: "a" }] };

function engine(fake: FakePlugins) {
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    env: { PATH: "/usr/bin:/bin" },
  };
}

Deno.test("a symlink planted as the cache file is replaced, never written through", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const victim = join(fake.root, "victim");
  await Deno.writeTextFile(victim, "precious");
  await Deno.mkdir(join(fake.cacheDir, "results"), {
    recursive: true,
    mode: 0o700,
  });
  const entry = join(fake.cacheDir, "results", "sec-sec1-eth0");
  await Deno.symlink(victim, entry);
  await addNetworkList(await makeList(LIST), RT, engine(fake));
  equal(await Deno.readTextFile(victim), "precious");
  ok(
    (await Deno.lstat(entry)).isFile,
    "the link was replaced by a regular file",
  );
  equal((await Deno.stat(entry)).mode! & 0o777, 0o600);
});

Deno.test("a symlink planted as the cache file is not read through on DEL", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const victim = join(fake.root, "victim.json");
  await Deno.writeTextFile(
    victim,
    JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: "6.6.6.6/32" }] }),
  );
  await Deno.mkdir(join(fake.cacheDir, "results"), {
    recursive: true,
    mode: 0o700,
  });
  await Deno.symlink(victim, join(fake.cacheDir, "results", "sec-sec1-eth0"));
  const report = await delNetworkList(await makeList(LIST), RT, engine(fake));
  ok(report.quarantined, "the link was moved aside");
  const [call] = await fake.calls();
  equal(
    call?.stdin.prevResult,
    undefined,
    "the link's target never became prevResult",
  );
  equal(
    await Deno.readTextFile(victim).then((t) => t.includes("6.6.6.6")),
    true,
    "target untouched",
  );
});

Deno.test("a results directory that is a symlink is refused before any plugin runs", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const elsewhere = join(fake.root, "elsewhere");
  await Deno.mkdir(elsewhere);
  await Deno.mkdir(fake.cacheDir);
  await Deno.symlink(elsewhere, join(fake.cacheDir, "results"));
  await rejects(
    addNetworkList(await makeList(LIST), RT, engine(fake)),
    (e: CniError) => e.code === 5 && /symlink/.test(e.message),
  );
  equal((await fake.calls()).length, 0);
  equal((await Array.fromAsync(Deno.readDir(elsewhere))).length, 0);
});

Deno.test("cache directories are created 0700 and files 0600, whatever the umask", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const old = Deno.umask(0o000);
  try {
    await addNetworkList(await makeList(LIST), RT, engine(fake));
  } finally {
    Deno.umask(old);
  }
  equal((await Deno.stat(join(fake.cacheDir, "results"))).mode! & 0o777, 0o700);
  equal(
    (await Deno.stat(join(fake.cacheDir, "results", "sec-sec1-eth0"))).mode! &
      0o777,
    0o600,
  );
});
