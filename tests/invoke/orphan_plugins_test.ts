import { deepEqual, equal, ok } from "node:assert/strict";
import { reapOrphanPlugins } from "../../src/invoke/orphan_plugins.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** A stand-in plugin in its own group, with a child, as exec_plugin starts them. */
function fakePlugin(containerId: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", "sleep 600 & echo $!; wait"],
    env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: containerId },
    clearEnv: true,
    detached: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<number> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return Number(text.trim());
}

Deno.test({
  name:
    "reapOrphanPlugins() kills the plugins of one container with their children, and nothing else",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const suffix = crypto.randomUUID().slice(0, 8);
    const mine = fakePlugin(`orphan-${suffix}`);
    const other = fakePlugin(`other-${suffix}`);
    try {
      const mineChild = await firstLine(mine);
      const otherChild = await firstLine(other);
      ok(alive(mineChild) && alive(otherChild));

      const killed = await reapOrphanPlugins(`orphan-${suffix}`);
      deepEqual(killed.sort(), [mine.pid, mineChild].sort());
      equal((await mine.status).signal, "SIGKILL");
      equal(alive(mineChild), false, "the plugin's child went with it");
      ok(alive(other.pid) && alive(otherChild), "another container's lives");

      deepEqual(await reapOrphanPlugins(`orphan-${suffix}`), []);
    } finally {
      for (const c of [mine, other]) {
        try {
          Deno.kill(-c.pid, "SIGKILL");
        } catch {
          // Gone.
        }
        await c.status;
        await c.stdout.cancel().catch(() => {});
      }
    }
  },
});

Deno.test("reapOrphanPlugins() does nothing without a proc filesystem", async () => {
  deepEqual(
    await reapOrphanPlugins("x", { procDir: "/nonexistent-proc" }),
    [],
  );
});
