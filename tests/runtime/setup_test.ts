import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { createNetns } from "../_helpers/netns.ts";
import { SKIP_REAL_PARTS } from "../_helpers/prerequisites.ts";

/** A conf dir whose one network "n" chains `types`, and setup options for it. */
async function podBed(fake: FakePlugins, types: string[]) {
  const confDir = await fake.writeConfDir({
    "10-n.conflist": {
      cniVersion: "1.0.0",
      name: "n",
      plugins: types.map((type) => ({ type })),
    },
  });
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

Deno.test("setup() with a plugin missing from the bin dirs fails before any plugin runs or anything is written", async () => {
  await using fake = await FakePlugins.create(["a", "b", "loopback"]);
  const options = await podBed(fake, ["a", "missing"]);
  await rejects(
    setup("c4", "/proc/self/ns/net", options),
    (e: CniError) => e.code === 5 && /"missing"/.test(e.message),
  );
  deepEqual(await fake.calls(), [], "not even loopback ran");
  equal(
    await Deno.lstat(fake.cacheDir).then(() => "written", () => "nothing"),
    "nothing",
  );
});

Deno.test("setup() finds a set-up container by its record or, without one, by the planned attachments' entries, and other pods' entries do not stand in its way", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = { ...await podBed(fake, ["a"]), loopback: false };
  // Another pod of the node, and a file no setup wrote.
  await setup("other", "/proc/self/ns/net", options);
  await Deno.writeTextFile(join(fake.cacheDir, "results", "x-y-z"), "{}");
  await setup("c7", "/proc/self/ns/net", options);
  // A record lost to a power loss (it is not fsync'd): the entry remains.
  await Deno.remove(join(fake.cacheDir, "cnishim", "pods", "c7.json"));
  await fake.clearCalls();
  await rejects(
    setup("c7", "/proc/self/ns/net", options),
    (e: CniError) =>
      e.code === 4 && /"c7" is already set up \(n\/eth0\)/.test(e.message),
  );
  deepEqual(await fake.calls(), [], "no plugin ran");
});

Deno.test("setup() whose pod record cannot be written (it is written beside the first plugins) tears the pod down and leaves no entry, record or lock", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const options = { ...await podBed(fake, ["a", "b"]), loopback: false };
  // The record's directory is a symlink, which the cache refuses to write
  // through (code 5); removing through it finds nothing, as after a crash.
  await Deno.mkdir(join(fake.cacheDir, "cnishim"), { recursive: true });
  const elsewhere = await Deno.makeTempDir();
  await Deno.symlink(elsewhere, join(fake.cacheDir, "cnishim", "pods"));
  try {
    await rejects(
      setup("c6", "/proc/self/ns/net", options),
      (e: CniError) => e.code === 5 && /cnishim\/pods/.test(e.message),
    );
    const calls = await fake.calls();
    const types = (command: string) =>
      calls.filter((c) => c.command === command).map((c) => c.type);
    // Whatever ADDs ran beside the failed write were undone, in reverse.
    const adds = types("ADD");
    deepEqual(types("DEL").slice(-adds.length), adds.reverse());
    // The GC lock file is shared by every pod and stays.
    const left = Object.keys(await snapshot(fake.cacheDir)).filter((f) =>
      !f.endsWith("/locks/gc.lock")
    );
    deepEqual(left, [], `no cache entry, record or lock file left: ${left}`);
    deepEqual(
      await snapshot(elsewhere),
      {},
      "nothing written through the link",
    );
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

/** Every file under `dir` with its content, for before/after comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) Object.assign(out, await snapshot(path));
    else if (e.isFile) out[path] = await Deno.readTextFile(path);
  }
  return out;
}

Deno.test("a second setup() of a set-up container is refused (code 4) before any plugin runs, and the first setup stays as it was", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const options = { ...await podBed(fake, ["a", "b"]), loopback: false };
  await setup("c1", "/proc/self/ns/net", {
    ...options,
    args: [["K8S_POD_NAME", "first"]],
  });
  const before = await snapshot(fake.cacheDir);
  await fake.clearCalls();

  const again = () =>
    setup("c1", "/proc/self/ns/net", {
      ...options,
      args: [["K8S_POD_NAME", "second"]],
    });
  await rejects(
    again(),
    (e: CniError) =>
      e.code === 4 && /"c1" is already set up \(n\/eth0\)/.test(e.message),
  );
  deepEqual(await fake.calls(), [], "no plugin ran");
  deepEqual(
    await snapshot(fake.cacheDir),
    before,
    "cache and record as before",
  );

  // An entry that cannot be read still counts: the attachment exists.
  const entry = join(fake.cacheDir, "results", "n-c1-eth0");
  await Deno.writeTextFile(entry, "{garbage");
  await rejects(again(), (e: CniError) => e.code === 4);
  deepEqual(await fake.calls(), [], "no plugin ran");
});

Deno.test("setup() refuses a netns path that is not a network namespace before any plugin runs, records nothing, and then accepts a good one", async (t) => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const options = await podBed(fake, ["a"]);
  const file = join(fake.root, "plain-file");
  await Deno.writeTextFile(file, "");
  const bad: [string, string, RegExp][] = [
    ["a plain directory", fake.root, /directory, not a namespace/],
    ["a regular file", file, /file, not a namespace/],
    ["a relative name", "netns1", /not an absolute path/],
    ["a missing path", join(fake.root, "gone"), /No such file/],
    ["another kind of namespace", "/proc/self/ns/mnt", /a mnt namespace/],
  ];
  for (const [name, path, why] of bad) {
    await t.step(name, async () => {
      await rejects(
        setup("c8", path, options),
        (e: CniError) => e.code === 8 && why.test(e.message),
      );
      deepEqual(await fake.calls(), [], "no plugin ran");
      equal(
        await Deno.lstat(fake.cacheDir).then(() => "written", () => "nothing"),
        "nothing",
      );
    });
  }
  await t.step("/proc/<pid>/ns/net is accepted", async () => {
    await setup("c8", `/proc/${Deno.pid}/ns/net`, options);
    deepEqual((await fake.calls()).map((c) => c.type).sort(), [
      "a",
      "loopback",
    ]);
  });
  await t.step({
    name: "an nsfs bind mount (ip netns add) is accepted",
    ignore: SKIP_REAL_PARTS,
    fn: async () => {
      await using ns = await createNetns("cs-nsfs");
      await fake.clearCalls();
      await setup("c9", ns.path, options);
      const calls = await fake.calls();
      deepEqual(calls.map((c) => c.type).sort(), ["a", "loopback"]);
      equal(calls.find((c) => c.type === "a")!.env.CNI_NETNS, ns.path);
    },
  });
});

Deno.test("setup() attaches a network with a 200-character name, and refuses one whose cache file name would pass 255 bytes before anything runs", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const name = "n".repeat(200);
  const confDir = await fake.writeConfDir({
    "10-long.conf": { cniVersion: "1.0.0", name, type: "a" },
  });
  const options = {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    loopback: false,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
  const result = await setup("c200", "/proc/self/ns/net", options);
  equal(result.networks[0]!.name, name);
  await Deno.stat(join(fake.cacheDir, "results", `${name}-c200-eth0`));
  await fake.clearCalls();

  // 200 + 64 + 4 + 2 = 270 bytes: no file system takes that name.
  const id = "f".repeat(64);
  await rejects(
    setup(id, "/proc/self/ns/net", options),
    (e: CniError) =>
      e.code === 7 && /would be 270 bytes, over the limit of 255/.test(
        e.message,
      ),
  );
  deepEqual(await fake.calls(), [], "no plugin ran");
});

Deno.test("setup() validates a library caller's typed pod inputs before any plugin runs, naming the field", async (t) => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const options = await podBed(fake, ["a"]);
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ["a bad mac", { mac: "zz:zz" }, 7, /Invalid mac: "zz:zz"/],
    ["an ips entry Go refuses", { ips: ["10.0.0.1", "1.2.3"] }, 7, /ips/],
    [
      "a port out of range",
      { portMappings: [{ hostPort: 70000, containerPort: 80 }] },
      7,
      /portMappings\[0\]\.hostPort/,
    ],
    ["a bandwidth key", { bandwidth: { rate: 1 } }, 7, /bandwidth\.rate/],
    ["dns that is no object", { dns: [] }, 7, /Invalid dns/],
    ["a CNI_ARGS value with ;", { args: [["A", "1;2"]] }, 4, /args pair 1/],
    [
      "a pod name with =",
      { pod: { name: "a=b" } },
      4,
      /K8S_POD_NAME/,
    ],
    ["annotations of numbers", { annotations: { a: 1 } }, 7, /annotations/],
    ["raw capability args", { capabilityArgs: [] }, 7, /capabilityArgs/],
  ];
  for (const [name, inputs, code, mention] of cases) {
    await t.step(name, async () => {
      await rejects(
        setup("c1", "/proc/self/ns/net", { ...options, ...inputs }),
        (e: CniError) => e.code === code && mention.test(e.message),
      );
    });
  }
  deepEqual(await fake.calls(), [], "no plugin ran");
  equal(
    await Deno.lstat(fake.cacheDir).then(() => "written", () => "nothing"),
    "nothing",
  );
});

Deno.test("setup() turns typed pod inputs into CNI_ARGS and capability args, the raw ones merged last", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const options = { ...await podBed(fake, ["a"]), loopback: false };
  await setup("c1", "/proc/self/ns/net", {
    ...options,
    pod: { name: "web-0", namespace: "prod" },
    args: [["X", "1"]],
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ips: ["10.244.9.5/24"],
    mac: "0a:58:0a:f4:00:05",
    annotations: { "kubernetes.io/ingress-bandwidth": "10M" },
    capabilityArgs: { mac: "0a:58:0a:f4:00:06" },
  });
  const [call] = await fake.calls();
  equal(
    call!.env.CNI_ARGS,
    "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1;X=1",
  );
  const record = JSON.parse(
    await Deno.readTextFile(
      join(fake.cacheDir, "cnishim", "pods", "c1.json"),
    ),
  );
  deepEqual(record.capabilityArgs, {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    bandwidth: { ingressRate: 10_000_000, ingressBurst: 2147483647 },
    mac: "0a:58:0a:f4:00:06",
    ips: ["10.244.9.5/24"],
    "io.kubernetes.cri.pod-annotations": {
      "kubernetes.io/ingress-bandwidth": "10M",
    },
  });
});
