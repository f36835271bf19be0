import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import { remove } from "../../src/runtime/remove.ts";
import { check } from "../../src/runtime/check.ts";
import { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
const NETNS = "/proc/self/ns/net";
const PORTS = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];

async function podBed(fake: FakePlugins) {
  const confDir = await fake.writeConfDir({
    "10-n.conflist": {
      cniVersion: "1.0.0",
      name: "n",
      plugins: [{ type: "a" }, {
        type: "b",
        capabilities: { portMappings: true },
      }],
    },
  });
  const file = join(confDir, "10-n.conflist");
  return {
    file,
    options: {
      binDirs: [fake.binDir],
      cacheDir: fake.cacheDir,
      confDir,
      loopback: false,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("remove() tears down an attachment whose cache entry is corrupt with today's config and the recorded runtime args, and quarantines the entry", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { options } = await podBed(fake);
  await setup("c1", NETNS, {
    ...options,
    args: [["K8S_POD_NAME", "p1"]],
    capabilityArgs: { portMappings: PORTS },
  });
  const entry = join(fake.cacheDir, "results", "n-c1-eth0");
  await Deno.writeTextFile(entry, '{"kind":"cniCacheV1","conf');
  await fake.clearCalls();

  const report = await remove("c1", NETNS, options);
  deepEqual(report.removed, [{ network: "n", interface: "eth0" }]);
  const calls = await fake.calls();
  deepEqual(calls.map((c) => `${c.type} ${c.command}`), ["b DEL", "a DEL"]);
  // portmap-like plugins are told the mappings again (from the pod record).
  deepEqual(
    (calls[0]!.stdin.runtimeConfig as { portMappings: unknown })?.portMappings,
    PORTS,
  );
  equal(calls[0]!.env.CNI_ARGS, "K8S_POD_NAME=p1");
  equal(calls[0]!.stdin.prevResult, undefined);

  equal(await exists(entry), false);
  const quarantined = await Array.fromAsync(
    Deno.readDir(join(fake.cacheDir, "quarantine")),
  );
  equal(quarantined.length, 1);
  match(report.warnings.join("\n"), /network "n" \(eth0\) was corrupt/);
  ok(report.warnings[0]!.includes(quarantined[0]!.name));
  equal(await exists(join(fake.cacheDir, "cnishim", "pods", "c1.json")), false);
  equal(
    await exists(join(fake.cacheDir, "locks", "containers", "c1.lock")),
    false,
  );
});

Deno.test("remove() with the pod record left empty (a power loss after its unsynced write) tears down from the fsync'd cache entries alone", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { options } = await podBed(fake);
  await setup("c9", NETNS, {
    ...options,
    args: [["K8S_POD_NAME", "p9"]],
    capabilityArgs: { portMappings: PORTS },
  });
  const record = join(fake.cacheDir, "cnishim", "pods", "c9.json");
  await Deno.writeTextFile(record, "");
  await fake.clearCalls();

  const report = await remove("c9", NETNS, options);
  deepEqual(report.removed, [{ network: "n", interface: "eth0" }]);
  deepEqual(report.warnings, []);
  const calls = await fake.calls();
  deepEqual(calls.map((c) => `${c.type} ${c.command}`), ["b DEL", "a DEL"]);
  // The entry alone carries what DEL needs: mappings, args, prevResult.
  deepEqual(
    (calls[0]!.stdin.runtimeConfig as { portMappings: unknown })?.portMappings,
    PORTS,
  );
  equal(calls[0]!.env.CNI_ARGS, "K8S_POD_NAME=p9");
  ok(calls[0]!.stdin.prevResult);
  equal(await exists(join(fake.cacheDir, "results", "n-c9-eth0")), false);
  equal(await exists(record), false);
});

Deno.test("remove() with a corrupt entry and its network gone from the conf dir fails naming both, and keeps what a retry needs", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { file, options } = await podBed(fake);
  const conflist = await Deno.readTextFile(file);
  await setup("c2", NETNS, options);
  const entry = join(fake.cacheDir, "results", "n-c2-eth0");
  await Deno.writeTextFile(entry, "");
  await Deno.remove(file);
  await fake.clearCalls();

  const error = await remove("c2", NETNS, options).catch((e) => e);
  ok(error instanceof CniError);
  match(
    error.message,
    /network "n" \(eth0\): its cache entry holds no usable config and ".*net\.d" has no valid network of that name/,
  );
  deepEqual(await fake.calls(), []);
  ok(await exists(entry), "the entry stays for a retry");
  ok(await exists(join(fake.cacheDir, "cnishim", "pods", "c2.json")));

  // The operator puts the network back: the retry goes through.
  await Deno.writeTextFile(file, conflist);
  await remove("c2", NETNS, options);
  equal(await exists(entry), false);
});

Deno.test("remove() after a holder died kills the plugins it left running, then tears down", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { options } = await podBed(fake);
  await setup("c3", NETNS, options);
  // As after a SIGKILL: a pid in the lock file and a plugin still running.
  await Deno.writeTextFile(
    join(fake.cacheDir, "locks", "containers", "c3.lock"),
    "4194305",
  );
  const orphan = new Deno.Command("sleep", {
    args: ["600"],
    env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c3" },
    clearEnv: true,
    detached: true,
  }).spawn();
  try {
    await remove("c3", NETNS, options);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      orphan.status,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), 3000);
      }),
    ]);
    clearTimeout(timer);
    equal(status?.signal, "SIGKILL", "the orphan was killed");
    equal(
      await exists(join(fake.cacheDir, "locks", "containers", "c3.lock")),
      false,
    );
  } finally {
    try {
      orphan.kill("SIGKILL");
    } catch {
      // Reaped.
    }
    await orphan.status;
  }
});

Deno.test("a pre-0.8 libcni cache entry (a bare result) is seen by setup, check and remove, with the result as prevResult", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { options } = await podBed(fake);
  const bare = {
    cniVersion: "1.0.0",
    interfaces: [{ name: "eth0" }],
    ips: [{ address: "10.1.0.9/24", interface: 0 }],
  };
  const entry = join(fake.cacheDir, "results", "n-c7-eth0");
  await Deno.mkdir(join(fake.cacheDir, "results"), { recursive: true });
  await Deno.writeTextFile(entry, JSON.stringify(bare));

  // ADD: the container is set up already.
  const again = await setup("c7", NETNS, options).then(
    () => undefined,
    (e) => e,
  );
  ok(again instanceof CniError, String(again));
  equal(again.code, 4);
  match(again.message, /already set up \(n\/eth0\)/);
  deepEqual(await fake.calls(), [], "no plugin ran");

  // CHECK: today's config, the cached result as prevResult.
  const checked = await check("c7", NETNS, options);
  deepEqual(checked, [{ name: "n", interface: "eth0", status: "ok" }]);
  const checks = await fake.calls();
  deepEqual(checks.map((c) => `${c.type} ${c.command}`), [
    "a CHECK",
    "b CHECK",
  ]);
  for (const c of checks) deepEqual(c.stdin.prevResult, bare);
  await fake.clearCalls();

  // DEL: every plugin with the cached result, and the file goes.
  const report = await remove("c7", NETNS, options);
  deepEqual(report.removed, [{ network: "n", interface: "eth0" }]);
  const dels = await fake.calls();
  deepEqual(dels.map((c) => `${c.type} ${c.command}`), ["b DEL", "a DEL"]);
  for (const c of dels) deepEqual(c.stdin.prevResult, bare);
  equal(await exists(entry), false);

  // And now a new ADD goes through.
  await setup("c7", NETNS, options);
});
