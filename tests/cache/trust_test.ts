import { equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import { remove } from "../../src/runtime/remove.ts";
import { lockContainer } from "../../src/cache/container_lock.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

const NETNS = "/proc/self/ns/net";
const CONF = { cniVersion: "1.0.0", name: "n", plugins: [{ type: "a" }] };
const NOBODY = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];
const SKIP = Deno.uid() !== 0 && "needs root (to run the attacker as nobody)";

async function options(fake: FakePlugins, cacheDir: string) {
  return {
    binDirs: [fake.binDir],
    cacheDir,
    confDir: await fake.writeConfDir({ "10-n.conflist": CONF }),
    loopback: false,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

/** Runs `sh -c script` as nobody, in `cwd`. */
async function asNobody(cwd: string, script: string): Promise<void> {
  const out = await new Deno.Command("setpriv", {
    args: [...NOBODY, "sh", "-c", script],
    cwd,
    stderr: "piped",
  }).output();
  equal(out.success, true, new TextDecoder().decode(out.stderr));
}

// A forged entry: what nobody wants root to feed to a plugin as prevResult.
const FORGED = JSON.stringify({
  kind: "cniCacheV1",
  containerId: "c7",
  config: btoa(JSON.stringify(CONF)),
  ifName: "eth0",
  networkName: "n",
  result: { cniVersion: "1.0.0", ips: [{ address: "6.6.6.6/32" }] },
});

/** A root-owned 0755 dir nobody can traverse, with the cache dir in it. */
async function openParent(fake: FakePlugins): Promise<string> {
  const parent = join(fake.root, "node");
  await Deno.mkdir(parent);
  await Deno.chmod(fake.root, 0o711);
  await Deno.chmod(parent, 0o755);
  return parent;
}

for (const how of ["mode 0777", "owned by nobody"] as const) {
  Deno.test({
    name:
      `a cache dir ${how} is refused with code 5 naming it, before nobody's forged entry reaches a plugin`,
    ignore: !!SKIP,
    async fn() {
      await using fake = await FakePlugins.create(["a"]);
      const cacheDir = join(await openParent(fake), "cache");
      await Deno.mkdir(cacheDir);
      if (how === "mode 0777") await Deno.chmod(cacheDir, 0o777);
      else await Deno.chown(cacheDir, 65534, 65534);
      await asNobody(
        cacheDir,
        `mkdir -m 0700 results && printf '%s' '${FORGED}' > results/n-c7-eth0`,
      );
      const opts = await options(fake, cacheDir);
      await rejects(remove("c7", NETNS, opts), (e: CniError) => {
        equal(e.code, 5, e.message);
        ok(e.message.includes(cacheDir), e.message);
        match(e.message, how === "mode 0777" ? /0777/ : /uid 65534/);
        return true;
      });
      await rejects(setup("c8", NETNS, opts), (e: CniError) => e.code === 5);
      equal((await fake.calls()).length, 0, "no plugin ran");
    },
  });
}

Deno.test({
  name:
    "a results/ subdir owned by nobody is refused, so a result planted there is never read",
  ignore: !!SKIP,
  async fn() {
    await using fake = await FakePlugins.create(["a"]);
    const cacheDir = join(await openParent(fake), "cache");
    await Deno.mkdir(join(cacheDir, "results"), { recursive: true });
    await Deno.chmod(cacheDir, 0o755);
    await Deno.chown(join(cacheDir, "results"), 65534, 65534);
    await asNobody(cacheDir, `printf '%s' '${FORGED}' > results/n-c7-eth0`);
    await rejects(
      remove("c7", NETNS, await options(fake, cacheDir)),
      (e: CniError) =>
        e.code === 5 && e.message.includes(join(cacheDir, "results")) &&
        /uid 65534/.test(e.message),
    );
    equal((await fake.calls()).length, 0, "no plugin ran");
  },
});

Deno.test("a symlinked cnishim/ subdir is refused: no pod record is written outside the cache", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const cacheDir = join(fake.root, "cache");
  const elsewhere = join(fake.root, "elsewhere");
  await Deno.mkdir(cacheDir, { mode: 0o700 });
  await Deno.mkdir(elsewhere, { mode: 0o700 });
  await Deno.symlink(elsewhere, join(cacheDir, "cnishim"));
  await rejects(
    setup("c9", NETNS, await options(fake, cacheDir)),
    (e: CniError) =>
      e.code === 5 && e.message.includes(join(cacheDir, "cnishim")) &&
      /symlink/.test(e.message),
  );
  equal((await Array.fromAsync(Deno.readDir(elsewhere))).length, 0);
  await remove("c9", NETNS, await options(fake, cacheDir)).catch(() => {});
});

Deno.test("a symlinked lock file is refused: nothing is created at its target", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const locks = join(cacheDir, "locks", "containers");
    await Deno.mkdir(locks, { recursive: true, mode: 0o700 });
    const target = join(cacheDir, "target");
    await Deno.symlink(target, join(locks, "c10.lock"));
    await rejects(
      lockContainer(cacheDir, "c10"),
      (e: CniError) => e.code === 5 && /symlink/.test(e.message),
    );
    equal(await Deno.lstat(target).then(() => true, () => false), false);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
