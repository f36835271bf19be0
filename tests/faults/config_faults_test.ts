/**
 * The conf dir replaced while pods come and go. (A netns deleted before
 * DEL, and a conf file changed or removed between ADD and DEL, are in
 * tests/e2e/pod_test.ts, with portmap.)
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { createNetns, linksIn } from "../_helpers/netns.ts";
import { randomHex } from "../_helpers/shell.ts";
import {
  assertNothingLeft,
  explain,
  FaultBed,
  faultId,
  PORTMAP,
  portMappingsFlag,
} from "./_fault_bed.ts";

const WORKERS = 4;
const PODS_PER_WORKER = 5;

type Swap = (confDir: string, next: string) => Promise<void>;

// Kubernetes' ConfigMap volumes: the conf dir is a symlink, replaced by
// renaming a new symlink over it (atomic).
const symlinkSwap: Swap = async (confDir, next) => {
  const tmp = `${confDir}.${randomHex(6)}`;
  await Deno.symlink(next, tmp);
  await Deno.rename(tmp, confDir);
};

// An installer moving the old dir away and the new one in: for a moment
// there is no conf dir at all. The directories are copies, so that `next`
// stays available for the following swaps.
const renameSwap: Swap = async (confDir, next) => {
  const fresh = `${confDir}.new-${randomHex(6)}`;
  await Deno.mkdir(fresh);
  for await (const e of Deno.readDir(next)) {
    await Deno.copyFile(`${next}/${e.name}`, `${fresh}/${e.name}`);
  }
  const old = `${confDir}.old-${randomHex(6)}`;
  await Deno.rename(confDir, old);
  await Deno.rename(fresh, confDir);
  await Deno.remove(old, { recursive: true });
};

Deno.test({
  name:
    "fault: the conf dir replaced again and again during a stream of adds and dels: every op succeeds or fails cleanly, nothing is left",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    for (
      const [name, swap, initial] of [
        ["swapped symlink", symlinkSwap, "link"],
        ["dir renamed away and another renamed in", renameSwap, "dir"],
      ] as const
    ) {
      await t.step(name, async () => {
        await using fb = await FaultBed.create();
        // Two versions of one network (same name, bridge, subnet, IPAM):
        // A maps ports, B tunes a sysctl instead.
        const net = await fb.network(({ bridge }) => [bridge, PORTMAP]);
        const versions = [`${fb.root}/conf-a`, `${fb.root}/conf-b`];
        const file = net.file.slice(net.file.lastIndexOf("/") + 1);
        for (const [i, dir] of versions.entries()) {
          await Deno.mkdir(dir);
          const conflist = {
            ...net.conflist,
            plugins: i === 0 ? net.conflist.plugins : [
              (net.conflist.plugins as unknown[])[0],
              { type: "tuning", sysctl: { "net.core.somaxconn": "512" } },
            ],
          };
          await Deno.writeTextFile(`${dir}/${file}`, JSON.stringify(conflist));
        }
        const confDir = `${fb.root}/live`;
        if (initial === "link") await Deno.symlink(versions[0]!, confDir);
        else {await renameSwap(confDir, versions[0]!).catch(async () => {
            await Deno.mkdir(confDir);
            await Deno.copyFile(`${versions[0]}/${file}`, `${confDir}/${file}`);
          });}

        let stop = false;
        let swaps = 0;
        const swapper = (async () => {
          while (!stop) {
            await swap(confDir, versions[++swaps % 2]!);
            await new Promise((r) => setTimeout(r, 5));
          }
        })();

        const ids: string[] = [];
        const outcomes = { added: 0, refused: 0 };
        const worker = async (w: number) => {
          for (let i = 0; i < PODS_PER_WORKER; i++) {
            await using ns = await createNetns("csc");
            const id = faultId(`w${w}p${i}`);
            ids.push(id);
            const add = await fb.cli(
              ["add", id, ns.path, ...portMappingsFlag()],
              { confDir },
            );
            if (add.code === 0) {
              outcomes.added++;
              deepEqual(await linksIn(ns), ["eth0", "lo"], id);
            } else {
              // A clean failure: a coded error, and nothing in the pod.
              outcomes.refused++;
              equal(add.code, 1, explain(add));
              ok(typeof add.json<{ code: number }>().code === "number");
              deepEqual(await linksIn(ns), ["lo"], explain(add));
              try {
                assertNothingLeft(await fb.leaksOf(id));
              } catch (e) {
                throw new Error(`${(e as Error).message}\n${explain(add)}`);
              }
            }
            const del = await fb.cli(["del", id, ns.path], { confDir });
            equal(del.code, 0, explain(del));
            deepEqual(await linksIn(ns), ["lo"], id);
          }
        };
        try {
          await Promise.all(
            Array.from({ length: WORKERS }, (_, w) => worker(w)),
          );
        } finally {
          stop = true;
          await swapper;
        }
        ok(swaps > 10, `the conf dir was replaced ${swaps} times`);
        ok(outcomes.added > 0, JSON.stringify(outcomes));
        await fb.assertNoLeaks(ids);
      });
    }
  },
});
