import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { addNetworkList } from "../../src/engine/add_network_list.ts";
import { checkNetworkList } from "../../src/engine/check_network_list.ts";
import { delNetworkList } from "../../src/engine/del_network_list.ts";
import {
  AggregateCniError,
  CniError,
  DelStoppedError,
  PluginError,
} from "../../src/spec/errors.ts";
import type { JsonObject, RuntimeConf } from "../../src/spec/types.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { makeList, threePlugins } from "../_helpers/lists.ts";

const RT: RuntimeConf = {
  containerId: "ctr1",
  netns: "/var/run/netns/test",
  ifName: "eth0",
  args: [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "web-0"]],
  capabilityArgs: {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    bandwidth: { ingressRate: 1 },
  },
};

function resultFor(version: string, ip: string): JsonObject {
  return {
    cniVersion: version,
    interfaces: [{ name: "eth0", sandbox: "/var/run/netns/test" }],
    ips: [{
      address: `${ip}/24`,
      gateway: "10.1.0.1",
      interface: 0,
      ...(version.startsWith("0.") ? { version: "4" } : {}),
    }],
  };
}

function engine(fake: FakePlugins) {
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

for (const version of ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
  Deno.test(`addNetworkList(), checkNetworkList(), delNetworkList() send what the spec prescribes at ${version}`, async () => {
    await using fake = await FakePlugins.create(["a", "b", "c"]);
    const r1 = resultFor(version, "10.1.0.2");
    const r2 = {
      ...resultFor(version, "10.1.0.3"),
      dns: { nameservers: ["10.1.0.1"] },
    };
    const r3 = resultFor(version, "10.1.0.4");
    await fake.answer("a", "ADD", { stdout: r1 });
    await fake.answer("b", "ADD", { stdout: r2 });
    await fake.answer("c", "ADD", { stdout: r3 });
    const list = await makeList(threePlugins(version));
    const result = await addNetworkList(list, RT, engine(fake));
    deepEqual(result, r3);

    const add = await fake.calls();
    deepEqual(add.map((c) => `${c.type} ${c.command}`), [
      "a ADD",
      "b ADD",
      "c ADD",
    ]);
    const raw = threePlugins(version).plugins as JsonObject[];
    // a: own name/cniVersion overwritten, args and unknown keys untouched, no prevResult.
    deepEqual(add[0]!.stdin, { ...raw[0], name: "net3", cniVersion: version });
    // b: runtimeConfig replaced by the declared capabilities the caller gave.
    deepEqual(add[1]!.stdin, {
      ...raw[1],
      name: "net3",
      cniVersion: version,
      prevResult: r1,
      runtimeConfig: { portMappings: RT.capabilityArgs!.portMappings },
    });
    // c: nothing declared matched, so its own runtimeConfig passes through.
    deepEqual(add[2]!.stdin, {
      ...raw[2],
      name: "net3",
      cniVersion: version,
      prevResult: r2,
    });
    for (const call of add) {
      equal(call.env.CNI_COMMAND, "ADD");
      equal(call.env.CNI_CONTAINERID, "ctr1");
      equal(call.env.CNI_NETNS, "/var/run/netns/test");
      equal(call.env.CNI_IFNAME, "eth0");
      equal(call.env.CNI_ARGS, "IgnoreUnknown=1;K8S_POD_NAME=web-0");
      equal(call.env.CNI_PATH, fake.binDir);
    }

    await fake.clearCalls();
    const cached = version === "0.3.1" ? undefined : r3;
    if (version === "0.3.1") {
      await rejects(
        checkNetworkList(list, RT, engine(fake)),
        (e: CniError) => e.code === 1,
      );
    } else {
      await checkNetworkList(list, RT, engine(fake));
      const check = await fake.calls();
      deepEqual(check.map((c) => `${c.type} ${c.command}`), [
        "a CHECK",
        "b CHECK",
        "c CHECK",
      ]);
      for (const call of check) deepEqual(call.stdin.prevResult, cached);
      deepEqual(check[1]!.stdin.runtimeConfig, {
        portMappings: RT.capabilityArgs!.portMappings,
      });
    }

    await fake.clearCalls();
    await delNetworkList(list, RT, engine(fake));
    const del = await fake.calls();
    deepEqual(del.map((c) => `${c.type} ${c.command}`), [
      "c DEL",
      "b DEL",
      "a DEL",
    ]);
    for (const call of del) {
      deepEqual(
        call.stdin.prevResult,
        cached,
        "DEL gets the cached result from 0.4.0 on",
      );
      equal(call.stdin.cniVersion, version);
      equal(call.env.CNI_COMMAND, "DEL");
    }
    await rejects(
      Deno.stat(join(fake.cacheDir, "results", "net3-ctr1-eth0")),
      Deno.errors.NotFound,
    );
  });
}

Deno.test("checkNetworkList() is skipped with disableCheck and refused below 0.4.0 even then", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  await checkNetworkList(
    await makeList(threePlugins("1.0.0", { disableCheck: true })),
    RT,
    engine(fake),
  );
  deepEqual(await fake.calls(), []);
  await rejects(
    checkNetworkList(
      await makeList(threePlugins("0.3.1", { disableCheck: true })),
      RT,
      engine(fake),
    ),
    (e: CniError) => e.code === 1 && /CHECK/.test(e.message),
  );
  deepEqual(await fake.calls(), []);
});

Deno.test("addNetworkList() hands a 0.2.0 result on to a 1.0.0 list as a 1.0.0 result", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  await fake.answer("a", "ADD", {
    stdout: {
      cniVersion: "0.2.0",
      ip4: {
        ip: "10.2.0.5/24",
        gateway: "10.2.0.1",
        routes: [{ dst: "0.0.0.0/0", gw: "10.2.0.1" }],
      },
      dns: { nameservers: ["10.2.0.1"] },
    },
  });
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "conv",
    plugins: [{ type: "a" }, { type: "b" }],
  });
  await addNetworkList(list, RT, engine(fake));
  const calls = await fake.calls();
  deepEqual(calls[1]!.stdin.prevResult, {
    cniVersion: "1.0.0",
    ips: [{ address: "10.2.0.5/24", gateway: "10.2.0.1" }],
    routes: [{ dst: "0.0.0.0/0", gw: "10.2.0.1" }],
    dns: { nameservers: ["10.2.0.1"] },
  });
});

Deno.test("addNetworkList() runs DEL in reverse after the third plugin fails, and keeps its error", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  await fake.answer("a", "ADD", { stdout: resultFor("1.0.0", "10.1.0.2") });
  await fake.answer("c", "ADD", {
    stdout: { code: 11, msg: "backend busy", details: "retry in 5s" },
    exit: 1,
  });
  const list = await makeList(threePlugins("1.0.0"));
  const error = await addNetworkList(list, RT, engine(fake)).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof PluginError, String(error));
  equal(error.code, 11);
  ok(error.message.includes("backend busy"), error.message);
  equal(error.details, "retry in 5s");
  const calls = await fake.calls();
  deepEqual(calls.map((c) => `${c.type} ${c.command}`), [
    "a ADD",
    "b ADD",
    "c ADD",
    "c DEL",
    "b DEL",
    "a DEL",
  ]);
  deepEqual(
    calls[3]!.stdin.prevResult,
    { cniVersion: "1.0.0" },
    "rollback DEL gets the chain's last result",
  );
  deepEqual(
    await Array.fromAsync(Deno.readDir(join(fake.cacheDir, "results"))),
    [],
  );
});

Deno.test("addNetworkList() keeps the cache entry and reports both errors when the rollback fails", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  await fake.answer("b", "ADD", {
    stdout: { code: 7, msg: "bad config" },
    exit: 1,
  });
  await fake.answer("a", "DEL", { stderr: "cannot release", exit: 2 });
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "rb",
    plugins: [{ type: "a" }, { type: "b" }],
  });
  const error = await addNetworkList(list, RT, engine(fake)).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof CniError);
  equal(error.code, 7);
  ok(
    error.message.includes("bad config") &&
      error.message.includes("cannot release"),
    error.message,
  );
  const entry = JSON.parse(
    await Deno.readTextFile(join(fake.cacheDir, "results", "rb-ctr1-eth0")),
  );
  equal(entry.kind, "cniCacheV1");
  equal(
    entry.result,
    undefined,
    "an entry without result marks an ADD that did not finish",
  );
  // The retry by DEL now finds the recorded config and arguments.
  await fake.answer("a", "DEL", {});
  await delNetworkList(list, RT, engine(fake));
  await rejects(
    Deno.stat(join(fake.cacheDir, "results", "rb-ctr1-eth0")),
    Deno.errors.NotFound,
  );
});

Deno.test("addNetworkList() rolls back with DEL of every plugin of the list, those never called included", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c", "d"]);
  await fake.answer("b", "ADD", {
    stdout: { code: 7, msg: "bad config" },
    exit: 1,
  });
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "all",
    plugins: [{ type: "a" }, { type: "b" }, { type: "c" }, { type: "d" }],
  });
  await rejects(
    addNetworkList(list, RT, engine(fake)),
    (e: CniError) => e.code === 7 && e.message.includes("bad config"),
  );
  deepEqual((await fake.calls()).map((c) => `${c.type} ${c.command}`), [
    "a ADD",
    "b ADD",
    "d DEL",
    "c DEL",
    "b DEL",
    "a DEL",
  ]);
  deepEqual(
    await Array.fromAsync(Deno.readDir(join(fake.cacheDir, "results"))),
    [],
  );
});

Deno.test("addNetworkList() stops its rollback at a failing DEL, names what was not deleted, and keeps the entry", async () => {
  await using fake = await FakePlugins.create(["a", "b", "c"]);
  await fake.answer("c", "ADD", {
    stdout: { code: 11, msg: "backend busy" },
    exit: 1,
  });
  await fake.answer("b", "DEL", {
    stdout: { code: 5, msg: "iptables locked" },
    exit: 1,
  });
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "rbs",
    plugins: [{ type: "a" }, { type: "b" }, { type: "c" }],
  });
  const error = await addNetworkList(list, RT, engine(fake)).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof AggregateCniError, String(error));
  equal(error.code, 11, "the ADD's own error comes first");
  const stopped = error.errors[1];
  ok(stopped instanceof DelStoppedError, String(stopped));
  equal(stopped.failedPlugin, "b");
  deepEqual(stopped.notDeleted, ["a"]);
  ok(error.message.includes('"a" did not get'), error.message);
  deepEqual((await fake.calls()).map((c) => `${c.type} ${c.command}`), [
    "a ADD",
    "b ADD",
    "c ADD",
    "c DEL",
    "b DEL",
  ]);
  await Deno.stat(join(fake.cacheDir, "results", "rbs-ctr1-eth0"));
});

Deno.test("addNetworkList() fails before running anything when a plugin is missing", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "miss",
    plugins: [{ type: "a" }, { type: "nope" }],
  });
  await rejects(
    addNetworkList(list, RT, engine(fake)),
    (e: CniError) => /nope/.test(e.message),
  );
  deepEqual(await fake.calls(), []);
  await rejects(
    Deno.stat(join(fake.cacheDir, "results")),
    Deno.errors.NotFound,
  );
});

Deno.test("addNetworkList() rolls back when a plugin prints garbage or nothing", async (t) => {
  for (
    const [name, answer] of [["garbage", { stdout: "not json" }], ["nothing", {
      stdout: "",
    }], ["a bad address", {
      stdout: { cniVersion: "1.0.0", ips: [{ address: "10.0.0.1" }] },
    }]] as const
  ) {
    await t.step(name, async () => {
      await using fake = await FakePlugins.create(["a", "b"]);
      await fake.answer("b", "ADD", answer);
      const list = await makeList({
        cniVersion: "1.0.0",
        name: "g",
        plugins: [{ type: "a" }, { type: "b" }],
      });
      await rejects(
        addNetworkList(list, RT, engine(fake)),
        (e: CniError) => e.code === 6 && /"b"/.test(e.message),
      );
      deepEqual((await fake.calls()).map((c) => `${c.type} ${c.command}`), [
        "a ADD",
        "b ADD",
        "b DEL",
        "a DEL",
      ]);
    });
  }
});

Deno.test("addNetworkList() rolls back and fails when the result cannot be cached", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "ro",
    plugins: [{ type: "a" }],
  });
  // The entry path is taken by a directory, so the final atomic rename fails.
  const path = join(fake.cacheDir, "results", "ro-ctr1-eth0");
  let first = true;
  const options = {
    ...engine(fake),
    exec: {
      async execPlugin(
        req: Parameters<
          typeof import("../../src/invoke/exec_plugin.ts").processExec.execPlugin
        >[0],
      ) {
        const { processExec } = await import("../../src/invoke/exec_plugin.ts");
        const out = await processExec.execPlugin(req);
        if (first && req.command === "ADD") {
          first = false;
          await Deno.remove(path);
          await Deno.mkdir(join(path, "blocker"), { recursive: true });
        }
        return out;
      },
    },
  };
  await rejects(
    addNetworkList(list, RT, options),
    (e: CniError) => e.code === 5 && /cache/.test(e.message),
  );
  deepEqual((await fake.calls()).map((c) => `${c.type} ${c.command}`), [
    "a ADD",
    "a DEL",
  ]);
});

Deno.test("addNetworkList() labels a versionless result of a versionless list 0.1.0, as libcni does, in what it returns, caches and hands on", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const bare = { ip4: { ip: "10.1.0.7/24", gateway: "10.1.0.1" } };
  await fake.answer("a", "ADD", { stdout: bare });
  await fake.answer("b", "ADD", { stdout: bare });
  const list = await makeList({
    name: "nov",
    plugins: [{ type: "a" }, {
      type: "b",
    }],
  });
  equal(list.cniVersion, "");
  const result = await addNetworkList(list, RT, engine(fake));
  equal(result.cniVersion, "0.1.0");
  const entry = JSON.parse(
    await Deno.readTextFile(join(fake.cacheDir, "results", "nov-ctr1-eth0")),
  );
  deepEqual(entry.result, { cniVersion: "0.1.0", ...bare });
  const calls = await fake.calls();
  deepEqual(calls[1]!.stdin.prevResult, { cniVersion: "0.1.0", ...bare });
  await delNetworkList(list, RT, engine(fake));
});
