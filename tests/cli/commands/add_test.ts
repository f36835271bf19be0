/**
 * `cnishim add`: errors on stdout, extra networks, order, rollback, the
 * container lock, `--output cni`.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../../_helpers/fake_plugins.ts";
import { explain, runCli } from "../../_helpers/run_cli.ts";
import { listFiles } from "../../_helpers/shell.ts";
import { confFor, NETNS, plugins, trace } from "../_cli_bed.ts";

Deno.test("cnishim add prints the failing plugin's CNI error object on stdout and exits 1", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a", "b"),
  }]);
  await fake.answer("b", "ADD", {
    stdout: {
      cniVersion: "1.0.0",
      code: 11,
      msg: "no more leases",
      details: "pool x",
    },
    exit: 1,
  });
  const run = await runCli(["add", "c1", NETNS, ...flags]);
  equal(run.code, 1, explain(run));
  const error = run.json<Record<string, unknown>>();
  equal(error.code, 11, run.stdout);
  match(String(error.msg), /no more leases/);
  equal(typeof error.cniVersion, "string");
  match(run.stderr, /cnishim: .*no more leases.*\(CNI error code 11\)/);
  // The chain was unwound: DEL for both plugins, in reverse.
  deepEqual(trace(await fake.calls()), [
    "a ADD eth0",
    "b ADD eth0",
    "b DEL eth0",
    "a DEL eth0",
  ]);
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
});

Deno.test("cnishim add attaches the annotation's extra network on eth1", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { flags } = await confFor(fake, [
    { name: "main", plugins: plugins("a") },
    { name: "storage", plugins: plugins("b") },
  ]);
  const add = () =>
    runCli([
      "add",
      "cid-extra",
      NETNS,
      "--annotations",
      JSON.stringify({
        "network.alpha.kubernetes.io/network": '{"name":"storage"}',
      }),
      ...flags,
    ]);
  const run = await add();
  equal(run.code, 0, explain(run));
  const out = run.json<{ networks: { name: string; interface: string }[] }>();
  deepEqual(out.networks.map((n) => [n.name, n.interface]), [
    ["main", "eth0"],
    ["storage", "eth1"],
  ]);
  deepEqual(trace(await fake.calls()).sort(), ["a ADD eth0", "b ADD eth1"]);

  const result = await runCli(["result", "cid-extra", ...flags]);
  equal(result.code, 0, explain(result));
  deepEqual(
    result.json<{ networks: { name: string; interface: string }[] }>()
      .networks.map((n) => [n.name, n.interface]).sort(),
    [["main", "eth0"], ["storage", "eth1"]],
  );

  // DEL of the networks at once, as ADD: each gets its DEL, reported in
  // reverse setup order.
  await fake.clearCalls();
  const del = await runCli(["del", "cid-extra", ...flags]);
  equal(del.code, 0, explain(del));
  deepEqual(trace(await fake.calls()).sort(), ["a DEL eth0", "b DEL eth1"]);
  deepEqual(del.json<{ removed: unknown[] }>().removed, [
    { network: "storage", interface: "eth1" },
    { network: "main", interface: "eth0" },
  ]);
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);

  // --serial: one after the other, in reverse setup order.
  const again = await add();
  equal(again.code, 0, explain(again));
  await fake.clearCalls();
  const serial = await runCli(["del", "cid-extra", "--serial", ...flags]);
  equal(serial.code, 0, explain(serial));
  deepEqual(trace(await fake.calls()), ["b DEL eth1", "a DEL eth0"]);
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
});

Deno.test("cnishim add refuses an unknown annotation network before any plugin runs", async () => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const { flags } = await confFor(fake, [{
    name: "main",
    plugins: plugins("a"),
  }]);
  const run = await runCli([
    "add",
    "cid-unknown",
    NETNS,
    "--annotations",
    JSON.stringify({
      "network.alpha.kubernetes.io/network": '{"name":"nowhere"}',
    }),
    ...flags,
  ]);
  equal(run.code, 1, explain(run));
  const error = run.json<{ code: number; msg: string }>();
  equal(error.code, 7);
  match(error.msg, /"nowhere"/);
  deepEqual(await fake.calls(), []);
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
  deepEqual(await listFiles(join(fake.cacheDir, "cnishim", "pods")), []);
});

Deno.test("cnishim add attaches networks in parallel by default and one after the other with --serial", async (t) => {
  await using fake = await FakePlugins.create(["a", "c", "b"]);
  const { flags } = await confFor(fake, [
    { name: "main", plugins: plugins("a", "c") },
    { name: "side", plugins: plugins("b") },
  ]);
  // main's first plugin takes 2 s: in parallel, side's ADD starts meanwhile.
  await fake.answer("a", "ADD", { sleep: 2 });
  const annotations = JSON.stringify({
    "network.alpha.kubernetes.io/network": '{"name":"side"}',
  });
  for (const mode of ["parallel", "serial"] as const) {
    await t.step(mode, async () => {
      await fake.clearCalls();
      const cid = `cid-${mode}`;
      const run = await runCli([
        "add",
        cid,
        NETNS,
        "--annotations",
        annotations,
        ...(mode === "serial" ? ["--serial"] : []),
        ...flags,
      ]);
      equal(run.code, 0, explain(run));
      const out = run.json<
        { networks: { name: string; interface: string }[] }
      >();
      deepEqual(out.networks.map((n) => [n.name, n.interface]), [
        ["main", "eth0"],
        ["side", "eth1"],
      ]);
      const adds = trace(await fake.calls());
      if (mode === "serial") {
        deepEqual(adds, ["a ADD eth0", "c ADD eth0", "b ADD eth1"]);
      } else {
        equal(adds.length, 3);
        ok(
          adds.indexOf("b ADD eth1") < adds.indexOf("c ADD eth0"),
          `side should start while main's first plugin runs: ${adds}`,
        );
      }
      const del = await runCli(["del", cid, ...flags]);
      equal(del.code, 0, explain(del));
    });
  }
});

Deno.test("cnishim add tears the first network down when the second fails", async (t) => {
  for (const mode of ["parallel", "serial"] as const) {
    await t.step(mode, async () => {
      await using fake = await FakePlugins.create(["a", "b"]);
      const { flags } = await confFor(fake, [
        { name: "main", plugins: plugins("a") },
        { name: "side", plugins: plugins("b") },
      ]);
      await fake.answer("b", "ADD", {
        stdout: { code: 7, msg: "side is broken" },
        exit: 1,
      });
      const run = await runCli([
        "add",
        "cid-fail",
        NETNS,
        "--annotations",
        JSON.stringify({ "k8s.v1.cni.cncf.io/networks": "side" }),
        ...(mode === "serial" ? ["--serial"] : []),
        ...flags,
      ]);
      equal(run.code, 1, explain(run));
      const error = run.json<{ code: number; msg: string }>();
      equal(error.code, 7);
      match(error.msg, /side is broken/);
      const calls = trace(await fake.calls());
      ok(calls.includes("a ADD eth0"), `${calls}`);
      ok(calls.includes("a DEL eth0"), `main was not torn down: ${calls}`);
      ok(
        calls.indexOf("a DEL eth0") > calls.indexOf("a ADD eth0"),
        `${calls}`,
      );
      deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
      deepEqual(await listFiles(join(fake.cacheDir, "cnishim", "pods")), []);
    });
  }
});

Deno.test("cnishim add of the same container from two processes is serialised by the container lock, and the second is refused", async () => {
  await using fake = await FakePlugins.create(["a", "c"]);
  const { flags } = await confFor(fake, [{
    name: "main",
    plugins: plugins("a", "c"),
  }]);
  await fake.answer("a", "ADD", { sleep: 1 });
  const [one, two] = await Promise.all([
    runCli(["add", "cid-same", NETNS, ...flags]),
    runCli(["add", "cid-same", NETNS, ...flags]),
  ]);
  // The one that waited finds the container set up and is refused before
  // any plugin runs. Without the lock: a, a, c, c (both chains at once).
  const [won, refused] = one!.code === 0 ? [one!, two!] : [two!, one!];
  equal(won.code, 0, explain(won));
  equal(refused.code, 1, explain(refused));
  equal(refused.json<{ code: number }>().code, 4, explain(refused));
  match(refused.stderr, /"cid-same" is already set up \(main\/eth0\)/);
  deepEqual(trace(await fake.calls()), ["a ADD eth0", "c ADD eth0"]);
  const del = await runCli(["del", "cid-same", ...flags]);
  equal(del.code, 0, explain(del));
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
});

Deno.test("cnishim add --output cni prints exactly the default network's CNI result", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags } = await confFor(fake, [{
    name: "main",
    plugins: plugins("a"),
  }]);
  const answer = {
    cniVersion: "1.0.0",
    interfaces: [{ name: "eth0", sandbox: NETNS }],
    ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 0 }],
  };
  await fake.answer("a", "ADD", { stdout: answer });
  const run = await runCli([
    "add",
    "cid-cni",
    NETNS,
    "--output",
    "cni",
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  const out = run.json<Record<string, unknown>>();
  equal(out.cniVersion, "1.0.0");
  deepEqual(out.ips, answer.ips);
  deepEqual(out.interfaces, answer.interfaces);
});

Deno.test("cnishim add honours cnishim.io/network: the primary network named, the default, none, and extras", async (t) => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { flags } = await confFor(fake, [
    { name: "n1", plugins: plugins("a") },
    { name: "n2", plugins: plugins("b") },
  ]);
  const cases: [string, string, string[]][] = [
    ["n2", "c1", ["b ADD eth0"]],
    ["default,n2", "c2", ["a ADD eth0", "b ADD eth1"]],
    ["none,n2@net1", "c3", ["b ADD net1"]],
    ["default", "c4", ["a ADD eth0"]],
  ];
  for (const [value, id, want] of cases) {
    await t.step(value, async () => {
      const before = (await fake.calls()).length;
      const run = await runCli([
        "add",
        id,
        NETNS,
        "--serial",
        "--annotations",
        JSON.stringify({ "cnishim.io/network": value }),
        ...flags,
      ]);
      equal(run.code, 0, explain(run));
      deepEqual(trace((await fake.calls()).slice(before)), want);
    });
  }
  await t.step(
    "an unknown network is refused before any plugin runs",
    async () => {
      const before = (await fake.calls()).length;
      const run = await runCli([
        "add",
        "c5",
        NETNS,
        "--annotations",
        '{"cnishim.io/network":"nope"}',
        ...flags,
      ]);
      equal(run.code, 1, explain(run));
      match(run.stderr, /Cannot attach network "nope"/);
      equal((await fake.calls()).length, before);
    },
  );
});
