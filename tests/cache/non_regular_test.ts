import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { setup } from "../../src/runtime/setup.ts";
import { remove } from "../../src/runtime/remove.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

const NETNS = "/proc/self/ns/net";
const LOCK_MODULE = new URL(
  "../../src/cache/container_lock.ts",
  import.meta.url,
).href;

async function podBed(fake: FakePlugins) {
  const confDir = await fake.writeConfDir({
    "10-n.conflist": {
      cniVersion: "1.0.0",
      name: "n",
      plugins: [{ type: "a" }],
    },
  });
  return {
    binDirs: [fake.binDir],
    cacheDir: fake.cacheDir,
    confDir,
    loopback: false,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  equal(out.success, true, "mkfifo");
}

Deno.test("a FIFO as a container's lock file is refused with code 5 naming it, never opened", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const locks = join(fake.cacheDir, "locks", "containers");
  await Deno.mkdir(locks, { recursive: true, mode: 0o700 });
  const fifo = join(locks, "c4.lock");
  await mkfifo(fifo);
  // In a child: before, it blocked reading the FIFO for good.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { lockContainer } from ${JSON.stringify(LOCK_MODULE)};
       try {
         await lockContainer(${JSON.stringify(fake.cacheDir)}, "c4");
         console.log("locked");
       } catch (e) {
         console.log(e.code, e.message);
       }`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  match(text, /^5 /, new TextDecoder().decode(out.stderr));
  ok(text.includes(fifo), text);
  match(text, /not a regular file|FIFO/);
});

for (const kind of ["FIFO", "directory"] as const) {
  Deno.test(`a ${kind} as a cached result is quarantined by remove, and the container can be set up again`, async () => {
    await using fake = await FakePlugins.create(["a"]);
    const options = await podBed(fake);
    const results = join(fake.cacheDir, "results");
    await Deno.mkdir(results, { recursive: true, mode: 0o700 });
    const entry = join(results, "n-c5-eth0");
    if (kind === "FIFO") await mkfifo(entry);
    else {
      await Deno.mkdir(entry);
      await Deno.writeTextFile(join(entry, "x"), "{}");
    }
    // No pod record: the container is found by listing results/.
    const report = await remove("c5", NETNS, options);
    equal(report.removed.length, 1, JSON.stringify(report));
    equal(
      await Deno.lstat(entry).then(() => true, () => false),
      false,
      "moved out of results/",
    );
    const quarantined = await Array.fromAsync(
      Deno.readDir(join(fake.cacheDir, "quarantine")),
    );
    equal(quarantined.length, 1);
    await setup("c5", NETNS, options);
    await remove("c5", NETNS, options);
  });
}
