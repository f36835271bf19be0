import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

/** A conf dir whose one network "n" chains `types`, and setup options for it. */
async function podBed(fake: FakePlugins, types: string[]) {
  const confDir = join(fake.root, "net.d");
  await Deno.mkdir(confDir);
  await Deno.writeTextFile(
    join(confDir, "10-n.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "n",
      plugins: types.map((type) => ({ type })),
    }),
  );
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
    setup("c4", "/var/run/netns/x", options),
    (e: CniError) => e.code === 5 && /"missing"/.test(e.message),
  );
  deepEqual(await fake.calls(), [], "not even loopback ran");
  equal(
    await Deno.lstat(fake.cacheDir).then(() => "written", () => "nothing"),
    "nothing",
  );
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
  await setup("c1", "/var/run/netns/x", {
    ...options,
    args: [["K8S_POD_NAME", "first"]],
  });
  const before = await snapshot(fake.cacheDir);
  await fake.clearCalls();

  const again = () =>
    setup("c1", "/var/run/netns/y", {
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
        setup("c1", "/var/run/netns/x", { ...options, ...inputs }),
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
  await setup("c1", "/var/run/netns/x", {
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
