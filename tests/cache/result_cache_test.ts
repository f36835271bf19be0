import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { delNetworkList } from "../../src/engine/del_network_list.ts";
import { addNetworkList } from "../../src/engine/add_network_list.ts";
import {
  getCachedAttachments,
  getCachedConfig,
  getCachedResult,
} from "../../src/engine/get_cached_result.ts";
import { loadNetworkConfigList } from "../../src/config/parse_network_config.ts";
import { scanCacheEntries } from "../../src/cache/result_cache.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

const FIXTURE = new URL("../testdata/libcni-cache/", import.meta.url).pathname;
const ENTRY = "demo-4f1c2a9e0b7d-eth0";
const RT = {
  containerId: "4f1c2a9e0b7d",
  netns: "/var/run/netns/fx1",
  ifName: "eth0",
};

async function withFixture(fake: FakePlugins): Promise<void> {
  await Deno.mkdir(join(fake.cacheDir, "results"), {
    recursive: true,
    mode: 0o700,
  });
  await Deno.copyFile(
    join(FIXTURE, "results", ENTRY),
    join(fake.cacheDir, "results", ENTRY),
  );
}

function engine(fake: FakePlugins) {
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

Deno.test("delNetworkList() hands the result of a libcni-written entry to every plugin", async () => {
  await using fake = await FakePlugins.create(["bridge", "portmap", "tuning"]);
  await withFixture(fake);
  const list = await loadNetworkConfigList(join(FIXTURE, "10-demo.conflist"));
  const libcniResult = JSON.parse(
    await Deno.readTextFile(join(FIXTURE, "add-result.json")),
  );
  deepEqual(await getCachedResult(list, RT, engine(fake)), libcniResult);

  const cached = await getCachedConfig(
    { name: "demo" },
    { ...RT, netns: "" },
    engine(fake),
  );
  ok(cached);
  equal(
    new TextDecoder().decode(cached.config),
    await Deno.readTextFile(join(FIXTURE, "10-demo.conflist")),
  );
  deepEqual(cached.rt.args, [["IgnoreUnknown", "1"], [
    "K8S_POD_NAMESPACE",
    "default",
  ], ["K8S_POD_NAME", "web-0"]]);
  deepEqual(cached.rt.capabilityArgs, {
    portMappings: [{ containerPort: 80, hostPort: 18080, protocol: "tcp" }],
  });

  await delNetworkList(list, cached.rt, engine(fake));
  const calls = await fake.calls();
  deepEqual(calls.map((c) => c.type), ["tuning", "portmap", "bridge"]);
  for (const call of calls) deepEqual(call.stdin.prevResult, libcniResult);
  deepEqual(calls[1]!.stdin.runtimeConfig, {
    portMappings: [{ containerPort: 80, hostPort: 18080, protocol: "tcp" }],
  });
  deepEqual(await getCachedAttachments(undefined, engine(fake)), []);
});

Deno.test("addNetworkList() writes an entry with libcni's name, fields and modes", async () => {
  await using fake = await FakePlugins.create(["bridge", "portmap", "tuning"]);
  const list = await loadNetworkConfigList(join(FIXTURE, "10-demo.conflist"));
  const libcni = JSON.parse(
    await Deno.readTextFile(join(FIXTURE, "results", ENTRY)),
  );
  const libcniResult = JSON.parse(
    await Deno.readTextFile(join(FIXTURE, "add-result.json")),
  );
  await fake.answer("tuning", "ADD", { stdout: libcniResult });
  await addNetworkList(list, {
    ...RT,
    args: libcni.cniArgs,
    capabilityArgs: libcni.capabilityArgs,
  }, engine(fake));
  const path = join(fake.cacheDir, "results", ENTRY);
  const ours = JSON.parse(await Deno.readTextFile(path));
  // libcni 1.1.2 wrote no netns; newer libcni does, and so do we.
  deepEqual(Object.keys(ours), [
    ...Object.keys(libcni).slice(0, 5),
    "netns",
    ...Object.keys(libcni).slice(5),
  ]);
  deepEqual({ ...ours, netns: undefined }, { ...libcni, netns: undefined });
  equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  equal((await Deno.stat(join(fake.cacheDir, "results"))).mode! & 0o777, 0o700);
  const attachments = await getCachedAttachments("4f1c2a9e0b7d", engine(fake));
  deepEqual(attachments.map((a) => [a.networkName, a.ifName, a.netns]), [[
    "demo",
    "eth0",
    "/var/run/netns/fx1",
  ]]);
});

Deno.test("getCachedResult() reads the raw-result form of libcni 0.7", async () => {
  await using fake = await FakePlugins.create([]);
  await Deno.mkdir(join(fake.cacheDir, "results"), { recursive: true });
  const legacy = {
    cniVersion: "0.3.1",
    ips: [{ version: "4", address: "10.9.0.2/24" }],
    dns: {},
  };
  await Deno.writeTextFile(
    join(fake.cacheDir, "results", "demo-4f1c2a9e0b7d-eth0"),
    JSON.stringify(legacy),
  );
  const list = await loadNetworkConfigList(join(FIXTURE, "10-demo.conflist"));
  deepEqual(await getCachedResult(list, RT, engine(fake)), {
    cniVersion: "1.0.0",
    ips: [{ address: "10.9.0.2/24" }],
    dns: {},
  });
});

Deno.test("scanCacheEntries() names the entries of a container that listCacheEntries skips, from their file names", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    await withFixture({ cacheDir } as FakePlugins);
    const results = join(cacheDir, "results");
    const good = await Deno.readTextFile(join(results, ENTRY));
    const id = RT.containerId;
    const files: Record<string, string> = {
      [`demo-${id}-eth1`]: good.slice(0, 40), // truncated
      [`side-net-${id}-net1`]: "", // empty; a dashed network name
      [`demo-${id}-net-1`]: "", // or container "<id>-net"'s interface "1"
      [`other-${id}-eth2`]: '{"kind":"cniCacheV1","containerId":"x"}',
      [`demo-someone-else-eth0`]: "{", // another container's
      [`.demo-${id}-eth3.tmp`]: "{", // a write in progress
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(results, name), text);
    }
    const networks = new Set(["demo", "other", "side-net"]);
    deepEqual((await scanCacheEntries(cacheDir, id, networks)).unreadable, [
      { networkName: "demo", containerId: id, ifName: "eth1" },
      { networkName: "other", containerId: id, ifName: "eth2" },
      { networkName: "side-net", containerId: id, ifName: "net1" },
    ]);
    deepEqual(
      (await scanCacheEntries(cacheDir, id, networks)).ambiguous,
      [`demo-${id}-net-1`],
    );
    // Without today's networks, a dashed network name reads two ways too
    // (network "side", container "net-<id>"): left alone.
    const scan = await scanCacheEntries(cacheDir, id);
    deepEqual(scan.unreadable.map((k) => k.networkName), ["demo", "other"]);
    deepEqual(scan.ambiguous, [`demo-${id}-net-1`, `side-net-${id}-net1`]);
    deepEqual(
      (await scanCacheEntries(join(cacheDir, "none"), id)).unreadable,
      [],
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
