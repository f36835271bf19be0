/**
 * Plugin faults on real chains (Debian's bridge, host-local, portmap,
 * tuning in real namespaces, plus the scriptable fault plugin from a
 * second bin dir): a plugin that fails midway, hangs past the timeout,
 * prints garbage or nothing, or is missing. Each ADD must fail with the
 * right code and leave nothing behind.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { createNetns, linksIn } from "../_helpers/netns.ts";
import {
  type ChainContext,
  explain,
  FaultBed,
  faultId,
  installFaultPlugin,
  PORTMAP,
  portMappingsFlag,
} from "./_fault_bed.ts";

interface CniErrorOut {
  code: number;
  msg: string;
  details?: string;
}

/**
 * Adds a pod on a fresh bed with `chain`, expects the ADD to fail, and
 * checks that nothing is left. Returns the error and the plugin calls.
 */
async function failingAdd(
  chain: (ctx: ChainContext) => Record<string, unknown>[],
  extraFlags: string[] = [],
): Promise<{ error: CniErrorOut; calls: string[]; id: string }> {
  await using fb = await FaultBed.create();
  await fb.network(chain);
  await using ns = await createNetns("csf");
  const id = faultId("add");
  const run = await fb.cli([
    "add",
    id,
    ns.path,
    ...portMappingsFlag(),
    ...extraFlags,
  ]);
  equal(run.code, 1, explain(run));
  const error = run.json<CniErrorOut>();
  deepEqual(await linksIn(ns), ["lo"], "no interface left in the pod");
  await fb.assertNoLeaks([id]);
  return { error, calls: await fb.calls(), id };
}

Deno.test({
  name:
    "fault: a plugin failing in the middle of a real chain fails the ADD with its code, and the rollback leaves nothing",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    const failure = { code: 117, msg: "injected failure", details: "row 1" };

    await t.step("fault plugin between bridge and portmap", async () => {
      const { error, calls, id } = await failingAdd(({ bridge, fault }) => [
        bridge,
        fault({ ADD: { error: failure } }),
        PORTMAP,
      ]);
      equal(error.code, 117);
      match(error.msg, /injected failure/);
      // The failed plugin gets its DEL too (it may have done half its work).
      deepEqual(calls, [`fault ADD ${id} eth0`, `fault DEL ${id} eth0`]);
    });

    await t.step(
      "fault plugin after portmap (whose DNAT rule must be rolled back)",
      async () => {
        const { error, calls, id } = await failingAdd(({ bridge, fault }) => [
          bridge,
          PORTMAP,
          fault({ ADD: { error: failure } }),
        ]);
        equal(error.code, 117);
        deepEqual(calls, [`fault ADD ${id} eth0`, `fault DEL ${id} eth0`]);
      },
    );

    await t.step("tuning with a sysctl that does not exist", async () => {
      const { error } = await failingAdd(({ bridge }) => [
        bridge,
        PORTMAP,
        { type: "tuning", sysctl: { "net.ipv4.conf.eth0.no_such_knob": "1" } },
      ]);
      // The skel wraps a plain Go error as 999 (internal).
      equal(error.code, 999, JSON.stringify(error));
      match(error.msg, /no_such_knob/);
    });
  },
});

Deno.test({
  name:
    "fault: a plugin hanging past --timeout is killed with its children, rolled back, and nothing is left",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    const marker = `${fb.root}/hang.pid`;
    await fb.network(({ bridge, fault }) => [
      bridge,
      PORTMAP,
      fault({ ADD: { marker, sleep: 600 } }),
    ]);
    await using ns = await createNetns("csh");
    const id = faultId("hang");
    const run = await fb.cli([
      "add",
      id,
      ns.path,
      ...portMappingsFlag(),
      "--timeout",
      "2s",
    ]);
    equal(run.code, 1, explain(run));
    const error = run.json<CniErrorOut>();
    equal(error.code, 11, "try again later");
    match(error.msg, /"fault" \(ADD\) was killed after the timeout of 2000 ms/);
    // It did start (and forked its sleep child) before it was killed.
    ok(Number(await Deno.readTextFile(marker)) > 0);
    deepEqual(await fb.calls(), [
      `fault ADD ${id} eth0`,
      `fault DEL ${id} eth0`,
    ]);
    deepEqual(await linksIn(ns), ["lo"]);
    // processes: neither the plugin nor its `sleep 600` child is left.
    await fb.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "fault: a plugin printing garbage or nothing fails the ADD with a decoding error, rolled back, nothing left",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    const cases = [
      {
        name: "garbage, exit 0",
        action: { stdout: "}{ not json" },
        code: 6,
        msg: /"fault" failed \(ADD\): cannot parse its result/,
      },
      {
        name: "nothing, exit 0",
        action: { silent: true },
        code: 6,
        msg: /"fault" failed \(ADD\): cannot parse its result/,
      },
      {
        name: "garbage, exit 1",
        action: { stdout: "Segmentation fault", exit: 1 },
        code: 0,
        msg:
          /cannot parse its error message "Segmentation fault": exit status 1/,
      },
      {
        name: "nothing, exit 3",
        action: { silent: true, exit: 3 },
        code: 0,
        msg: /no error message: exit status 3/,
      },
      {
        name: "a result of the wrong shape",
        action: { stdout: '{"cniVersion":"1.0.0","ips":"10.0.0.1"}' },
        code: 6,
        msg: /"fault" failed \(ADD\)/,
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const { error, calls, id } = await failingAdd(({ bridge, fault }) => [
          bridge,
          PORTMAP,
          fault({ ADD: c.action }),
        ]);
        equal(error.code, c.code, JSON.stringify(error));
        match(error.msg, c.msg);
        deepEqual(calls, [`fault ADD ${id} eth0`, `fault DEL ${id} eth0`]);
      });
    }
  },
});

Deno.test({
  name:
    "fault: a plugin missing from the bin dirs fails the ADD before any plugin (loopback included) runs or anything is written",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using fb = await FaultBed.create();
    // A recording stand-in for loopback, found before the real one.
    await installFaultPlugin(fb.faultBin, "loopback");
    await fb.network(({ bridge, fault }) => [
      fault(),
      bridge,
      { type: "no-such-plugin" },
    ]);
    await using ns = await createNetns("csm");
    const id = faultId("miss");
    const run = await fb.cli(["add", id, ns.path]);
    equal(run.code, 1, explain(run));
    const error = run.json<CniErrorOut>();
    equal(error.code, 5);
    match(
      error.msg,
      /Cannot find plugin "no-such-plugin" in the plugin directories/,
    );
    deepEqual(await fb.calls(), [], "no plugin ran, not even loopback");
    equal(
      await Deno.stat(fb.bed.cacheDir).then(() => "written", () => "nothing"),
      "nothing",
      "not even the cache dir was created",
    );
    deepEqual(await linksIn(ns), ["lo"]);
    await fb.assertNoLeaks([id]);
  },
});
