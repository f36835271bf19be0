/**
 * What the meta plugin's end-to-end files share: the real-part test
 * options, names, namespaces, the error check and the leak audit.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../../_helpers/prerequisites.ts";
import { createNetns, type Netns } from "../../_helpers/netns.ts";
import { randomHex, sh } from "../../_helpers/shell.ts";
import { MADE, type PluginRun } from "../_meta_bed.ts";
import { expectExit } from "../../_helpers/run_cli.ts";

/** The options of a test that needs the real parts (root, Debian plugins). */
export const real = { ignore: SKIP_REAL_PARTS };

/** A container ID unique to this run, tagged for the reader. */
export function cid(tag: string): string {
  return `meta-${randomHex(8)}-${tag}`;
}

/** A fresh netns, remembered for the leak audit. */
export async function netns(): Promise<Netns> {
  const ns = await createNetns("csm");
  MADE.netns.add(ns.name);
  return ns;
}

/** Exit 1 with exactly one CNI error object of `cniCode` on stdout; its message. */
export function expectError(
  run: PluginRun,
  cniCode: number,
  what: string,
): string {
  expectExit(run, 1, what);
  const obj = run.json();
  equal(obj.code, cniCode, `${what}: ${run.stdout}`);
  equal(run.stdout.trim().split("\n").length, 1, "one error object on stdout");
  return String(obj.msg);
}

/**
 * The leak audit each file of the suite ends with: no namespace or bridge
 * a bed of this file made is left.
 */
export async function auditLeaks(): Promise<void> {
  await requireRealParts();
  const netnsLeft = (await sh(["ip", "netns", "list"])).stdout.split("\n")
    .map((l) => l.split(" ")[0]!).filter((n) => MADE.netns.has(n));
  const bridgesLeft: string[] = [];
  for (const b of MADE.bridges) {
    if ((await sh(["ip", "link", "show", "dev", b])).code === 0) {
      bridgesLeft.push(b);
    }
  }
  deepEqual({ netnsLeft, bridgesLeft }, { netnsLeft: [], bridgesLeft: [] });
  ok(MADE.netns.size > 0, "the suite made namespaces");
}
