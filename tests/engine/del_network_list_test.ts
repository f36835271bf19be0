import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { addNetworkList } from "../../src/engine/add_network_list.ts";
import { delNetworkList } from "../../src/engine/del_network_list.ts";
import { getCachedConfig } from "../../src/engine/get_cached_result.ts";
import { parseNetworkConfigList } from "../../src/config/parse_network_config.ts";
import { DelStoppedError } from "../../src/spec/errors.ts";
import type { RuntimeConf } from "../../src/spec/types.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { makeList } from "../_helpers/lists.ts";

const RT: RuntimeConf = {
  containerId: "c2",
  netns: "/var/run/netns/x",
  ifName: "eth0",
};

function engine(fake: FakePlugins) {
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

const LIST = {
  cniVersion: "1.0.0",
  name: "d",
  plugins: [{ type: "a" }, { type: "b" }, { type: "c" }],
};
const ENTRY = join("results", "d-c2-eth0");

Deno.test("delNetworkList() succeeds twice, the second time without prevResult", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  const list = await makeList(LIST);
  await addNetworkList(list, RT, engine(fake));
  await delNetworkList(list, RT, engine(fake));
  await fake.clearCalls();
  await delNetworkList(list, RT, engine(fake));
  const calls = await fake.calls();
  deepEqual(calls.map((c) => `${c.type} ${c.command}`), [
    "c DEL",
    "b DEL",
    "a DEL",
  ]);
  for (const call of calls) equal(call.stdin.prevResult, undefined);
});

Deno.test("delNetworkList() with nothing cached runs every plugin without prevResult", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  await delNetworkList(
    await makeList(LIST),
    { ...RT, netns: "" },
    engine(fake),
  );
  const calls = await fake.calls();
  deepEqual(calls.map((c) => c.type), ["c", "b", "a"]);
  for (const call of calls) {
    equal(call.stdin.prevResult, undefined);
    equal(call.env.CNI_NETNS, "", "a DEL without netns sends CNI_NETNS empty");
  }
});

Deno.test("delNetworkList() stops at the first failing plugin, names it and those not called, and keeps the entry", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  const list = await makeList(LIST);
  await addNetworkList(list, RT, engine(fake));
  await fake.clearCalls();
  await fake.answer("b", "DEL", {
    stdout: { code: 11, msg: "iptables locked", details: "xtables lock" },
    exit: 1,
  });
  const error = await delNetworkList(list, RT, engine(fake)).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof DelStoppedError, String(error));
  equal(error.code, 11);
  equal(error.details, "xtables lock");
  equal(error.failedPlugin, "b");
  deepEqual(error.notDeleted, ["a"]);
  ok(error.message.includes("iptables locked"), error.message);
  ok(error.message.includes('"a" did not get'), error.message);
  deepEqual(
    (await fake.calls()).map((c) => c.type),
    ["c", "b"],
    "a plugin below a failed DEL must not run (the spec's must stop)",
  );
  const kept = JSON.parse(
    await Deno.readTextFile(join(fake.cacheDir, ENTRY)),
  );
  ok(kept.result, "the entry keeps the result for the retry's prevResult");
  // Once the plugin recovers, the retry runs the whole list again and
  // removes the entry.
  await fake.clearCalls();
  await fake.answer("b", "DEL", {});
  await delNetworkList(list, RT, engine(fake));
  deepEqual((await fake.calls()).map((c) => c.type), ["c", "b", "a"]);
  for (const call of await fake.calls()) {
    deepEqual(call.stdin.prevResult, kept.result);
  }
  await rejects(Deno.stat(join(fake.cacheDir, ENTRY)), Deno.errors.NotFound);
});

Deno.test("delNetworkList() quarantines a corrupt entry and still runs every plugin", async (t) => {
  for (
    const [name, text] of [["empty", ""], ["garbage", "{not json"], [
      "truncated",
      '{"kind":"cniCacheV1","containerId":"c2","con',
    ]] as const
  ) {
    await t.step(name, async () => {
      await using fake = await FakePlugins.create(["a", "b", "c"]);
      await Deno.mkdir(join(fake.cacheDir, "results"), { recursive: true });
      await Deno.writeTextFile(join(fake.cacheDir, ENTRY), text);
      const report = await delNetworkList(
        await makeList(LIST),
        RT,
        engine(fake),
      );
      ok(report.quarantined?.includes("quarantine"));
      equal(await Deno.readTextFile(report.quarantined!), text);
      deepEqual((await fake.calls()).map((c) => c.type), ["c", "b", "a"]);
      await rejects(
        Deno.stat(join(fake.cacheDir, ENTRY)),
        Deno.errors.NotFound,
      );
    });
  }
});

Deno.test("getCachedConfig() drives a DEL with the old config and capability args after the conf changed", async () => {
  await using fake = await FakePlugins.create(["a", "b", "pm"]);
  const old = await makeList({
    cniVersion: "1.0.0",
    name: "d",
    plugins: [{ type: "a", old: true }, {
      type: "pm",
      capabilities: { portMappings: true },
    }],
  });
  const ports = [{ hostPort: 18080, containerPort: 80, protocol: "tcp" }];
  await addNetworkList(old, {
    ...RT,
    args: [["K8S_POD_NAME", "p"]],
    capabilityArgs: { portMappings: ports },
  }, engine(fake));
  await fake.clearCalls();
  // The runtime now has another config and knows nothing of the port mappings.
  const cached = await getCachedConfig({ name: "d" }, RT, engine(fake));
  ok(cached);
  const list = await parseNetworkConfigList(cached.config, {
    format: "conflist",
  });
  await delNetworkList(list, cached.rt, engine(fake));
  const calls = await fake.calls();
  deepEqual(calls.map((c) => c.type), ["pm", "a"]);
  deepEqual(calls[0]!.stdin.runtimeConfig, { portMappings: ports });
  equal(calls[1]!.stdin.old, true);
  equal(calls[0]!.env.CNI_ARGS, "K8S_POD_NAME=p");
  equal(await getCachedConfig({ name: "d" }, RT, engine(fake)), undefined);
});
