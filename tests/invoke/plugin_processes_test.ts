import { deepEqual, equal, ok } from "node:assert/strict";
import {
  killPluginTree,
  reapOrphanPlugins,
} from "../../src/invoke/plugin_processes.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * A stand-in plugin with a child, started as exec_plugin starts them: in
 * this test's own process group, which must survive the kills.
 */
function fakePlugin(
  containerId: string,
  ifName = "eth0",
  script = "sleep 600 & echo $!; wait",
): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", script],
    env: {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: containerId,
      CNI_IFNAME: ifName,
    },
    clearEnv: true,
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
  // Cancelling the decoder cancels the child's stdout under it, closing
  // the pipe (released, it would stay locked and open).
  await reader.cancel();
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
    const children: number[] = [];
    try {
      const mineChild = await firstLine(mine);
      const otherChild = await firstLine(other);
      children.push(mineChild, otherChild);
      ok(alive(mineChild) && alive(otherChild));

      const killed = await reapOrphanPlugins(`orphan-${suffix}`);
      deepEqual(killed.sort(), [mine.pid, mineChild].sort());
      equal((await mine.status).signal, "SIGKILL");
      equal(alive(mineChild), false, "the plugin's child went with it");
      ok(alive(other.pid) && alive(otherChild), "another container's lives");

      deepEqual(await reapOrphanPlugins(`orphan-${suffix}`), []);
    } finally {
      await cleanUp([mine, other], children);
    }
  },
});

Deno.test({
  name:
    "killPluginTree() kills a timed-out plugin with its children and a child that outlived it, not the same container's other interface",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const id = `tree-${crypto.randomUUID().slice(0, 8)}`;
    const env = { CNI_COMMAND: "ADD", CNI_CONTAINERID: id, CNI_IFNAME: "eth0" };
    const hung = fakePlugin(id);
    // Exited at once, its child holding the stdout pipe: no longer a
    // descendant of anything we started.
    const gone = fakePlugin(id, "eth0", "sleep 600 & echo $!");
    const sibling = fakePlugin(id, "eth1");
    const children: number[] = [];
    try {
      const hungChild = await firstLine(hung);
      const goneChild = await firstLine(gone);
      const siblingChild = await firstLine(sibling);
      children.push(hungChild, goneChild, siblingChild);
      await gone.status;
      ok(alive(goneChild), "the child outlived its plugin");

      await killPluginTree(hung.pid, env);
      equal((await hung.status).signal, "SIGKILL");
      for (const pid of [hungChild, goneChild]) {
        for (let i = 0; i < 200 && alive(pid); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        equal(alive(pid), false, `process ${pid} was killed`);
      }
      ok(alive(sibling.pid) && alive(siblingChild), "eth1's plugin lives");
    } finally {
      await cleanUp([hung, gone, sibling], children);
    }
  },
});

async function cleanUp(
  started: Deno.ChildProcess[],
  children: number[],
): Promise<void> {
  for (const c of started) {
    try {
      c.kill("SIGKILL");
    } catch {
      // Reaped already.
    }
    await c.status;
    await c.stdout.cancel().catch(() => {});
  }
  for (const pid of children.filter(alive)) Deno.kill(pid, "SIGKILL");
}

Deno.test("reapOrphanPlugins() does nothing without a proc filesystem", async () => {
  deepEqual(
    await reapOrphanPlugins("x", { procDir: "/nonexistent-proc" }),
    [],
  );
});
