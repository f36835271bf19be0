import { deepEqual, equal } from "node:assert/strict";
import {
  lockContainer,
  lockForGc,
  sweepContainerLocks,
} from "../../src/cache/container_lock.ts";

async function lockNames(cacheDir: string): Promise<string[]> {
  // The GC lock and the containers' (in their own directory), by name.
  const top = (await Array.fromAsync(Deno.readDir(`${cacheDir}/locks`)))
    .map((e) => e.name).filter((n) => n !== "containers");
  const own = await Array.fromAsync(
    Deno.readDir(`${cacheDir}/locks/containers`),
  ).catch(() => []);
  return [...top, ...own.map((e) => e.name)].sort();
}

Deno.test("lockContainer() serialises one container, and a removed lock file still excludes", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const events: string[] = [];
    const a = await lockContainer(cacheDir, "c1");
    a.removeOnRelease();
    const b = lockContainer(cacheDir, "c1").then((l) => {
      events.push("b");
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    equal(events.length, 0, "b waits while a holds the lock");
    await a.release();
    const heldB = await b;
    // b waited on the inode a unlinked; it must hold the file now at the path,
    // so a third process is excluded until b releases.
    const c = lockContainer(cacheDir, "c1").then((l) => {
      events.push("c");
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    equal(events.join(), "b");
    deepEqual(await lockNames(cacheDir), ["c1.lock", "gc.lock"]);
    await heldB.release();
    const heldC = await c;
    equal(events.join(), "b,c");
    await heldC.release();
    deepEqual(
      await lockNames(cacheDir),
      ["c1.lock", "gc.lock"],
      "kept when not asked to remove",
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("removeOnRelease() unlinks the container's lock file, never gc.lock", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const lock = await lockContainer(cacheDir, "c2");
    lock.removeOnRelease();
    await lock.release();
    deepEqual(await lockNames(cacheDir), ["gc.lock"]);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("sweepContainerLocks() under the GC lock keeps only the kept containers' files", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    for (const id of ["keep-me", "gone-1", "gone-2"]) {
      await (await lockContainer(cacheDir, id)).release();
    }
    const gc = await lockForGc(cacheDir);
    await sweepContainerLocks(cacheDir, new Set(["keep-me"]));
    await gc.release();
    deepEqual(await lockNames(cacheDir), ["gc.lock", "keep-me.lock"]);
    const st = await Deno.stat(`${cacheDir}/locks/containers/keep-me.lock`);
    equal(st.mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("deadHolder names a process that died holding the container's lock, until settled", async () => {
  const cacheDir = await Deno.makeTempDir();
  const module = new URL("../../src/cache/container_lock.ts", import.meta.url)
    .href;
  try {
    // A clean holder leaves no mark.
    const clean = await lockContainer(cacheDir, "c3");
    equal(clean.deadHolder, undefined);
    await clean.release();
    equal(await Deno.readTextFile(`${cacheDir}/locks/containers/c3.lock`), "");

    // A holder killed mid-operation leaves its pid.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { lockContainer } from ${JSON.stringify(module)};
         await lockContainer(${JSON.stringify(cacheDir)}, "c3");
         console.log("held");
         setInterval(() => {}, 60_000);`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    equal((await reader.read()).value?.trim(), "held");
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});

    const next = await lockContainer(cacheDir, "c3");
    equal(next.deadHolder, child.pid);
    await next.release();
    // Not settled (a CHECK, say): the mark stays for the next ADD or DEL.
    const again = await lockContainer(cacheDir, "c3");
    equal(again.deadHolder, child.pid);
    await again.settle();
    equal(again.deadHolder, undefined);
    await again.release();
    const after = await lockContainer(cacheDir, "c3");
    equal(after.deadHolder, undefined);
    await after.release();
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
