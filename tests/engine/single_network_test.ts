import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  addNetwork,
  checkNetwork,
  delNetwork,
  getNetworkCachedConfig,
  getNetworkCachedResult,
  validateNetwork,
} from "../../mod.ts";
import { parseNetworkConfigList } from "../../src/config/parse_network_config.ts";
import type { CniError } from "../../src/spec/errors.ts";
import type { RuntimeConf } from "../../src/spec/types.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { makeList } from "../_helpers/lists.ts";

const RT: RuntimeConf = {
  containerId: "one1",
  netns: "/var/run/netns/one",
  ifName: "eth0",
  args: [["K8S_POD_NAME", "p"]],
  capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2 }] },
};

function engine(fake: FakePlugins) {
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

Deno.test("addNetwork(), checkNetwork(), delNetwork() and the cache readers run one .conf as libcni's single-network verbs do", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const result = {
    cniVersion: "1.0.0",
    ips: [{ address: "10.1.0.3/24" }],
  };
  await fake.answer("a", "ADD", { stdout: result });
  await fake.answer("a", "VERSION", {
    stdout: { cniVersion: "1.0.0", supportedVersions: ["1.0.0"] },
  });
  const net = await parseNetworkConfigList(
    new TextEncoder().encode(JSON.stringify({
      cniVersion: "1.0.0",
      name: "single",
      type: "a",
      capabilities: { portMappings: true },
    })),
    { format: "conf" },
  );
  deepEqual(await validateNetwork(net, engine(fake)), ["portMappings"]);
  deepEqual(await addNetwork(net, RT, engine(fake)), result);
  deepEqual(await getNetworkCachedResult(net, RT, engine(fake)), result);
  const cached = await getNetworkCachedConfig(net, RT, engine(fake));
  deepEqual(cached?.rt.args, RT.args);
  deepEqual(cached?.rt.capabilityArgs, RT.capabilityArgs);
  await checkNetwork(net, RT, engine(fake));
  await delNetwork(net, RT, engine(fake));
  const calls = await fake.calls();
  deepEqual(
    calls.filter((c) => c.command !== "VERSION").map((c) => c.command),
    ["ADD", "CHECK", "DEL"],
  );
  deepEqual(calls.find((c) => c.command === "CHECK")!.stdin.prevResult, result);
  equal(await getNetworkCachedResult(net, RT, engine(fake)), undefined);
  await rejects(
    Deno.stat(join(fake.cacheDir, "results", "single-one1-eth0")),
    Deno.errors.NotFound,
  );
});

Deno.test("the single-network verbs refuse a list of several plugins, naming the list verb", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "two",
    plugins: [{ type: "a" }, { type: "b" }],
  });
  for (
    const [name, run] of [
      ["addNetwork", () => addNetwork(list, RT, engine(fake))],
      ["checkNetwork", () => checkNetwork(list, RT, engine(fake))],
      ["delNetwork", () => delNetwork(list, RT, engine(fake))],
      ["validateNetwork", () => validateNetwork(list, engine(fake))],
    ] as const
  ) {
    await rejects(
      run(),
      (e: CniError) => e.code === 7 && e.message.includes(`use ${name}List`),
      name,
    );
  }
  deepEqual(await fake.calls(), []);
});
