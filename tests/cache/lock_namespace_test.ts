import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import {
  lockContainer,
  lockForGc,
  sweepContainerLocks,
} from "../../src/cache/container_lock.ts";

const LOCK_MODULE = new URL(
  "../../src/cache/container_lock.ts",
  import.meta.url,
).href;

Deno.test("container ID gc takes its own lock, not the GC lock: add gc does not deadlock", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    // In a child, so that a deadlocked flock cannot wedge the test runner.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { lockContainer } from ${JSON.stringify(LOCK_MODULE)};
         const l = await lockContainer(${JSON.stringify(cacheDir)}, "gc");
         await l.release();
         console.log("locked");`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    });
    const out = await child.output();
    equal(
      new TextDecoder().decode(out.stdout).trim(),
      "locked",
      new TextDecoder().decode(out.stderr),
    );
    equal(out.success, true);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("container locks live under locks/containers/, and gc sweeps the previous layout's locks/<id>.lock", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    await (await lockContainer(cacheDir, "gc")).release();
    await (await lockContainer(cacheDir, "keep")).release();
    deepEqual(
      (await Array.fromAsync(
        Deno.readDir(join(cacheDir, "locks", "containers")),
      ))
        .map((e) => e.name).sort(),
      ["gc.lock", "keep.lock"],
    );
    await Deno.writeTextFile(join(cacheDir, "locks", "old-one.lock"), "");
    const gc = await lockForGc(cacheDir);
    await sweepContainerLocks(cacheDir, new Set(["keep"]));
    await gc.release();
    deepEqual(
      (await Array.fromAsync(Deno.readDir(join(cacheDir, "locks"))))
        .map((e) => e.name).sort(),
      ["containers", "gc.lock"],
    );
    deepEqual(
      (await Array.fromAsync(
        Deno.readDir(join(cacheDir, "locks", "containers")),
      ))
        .map((e) => e.name),
      ["keep.lock"],
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
