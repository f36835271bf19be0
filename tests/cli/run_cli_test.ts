/**
 * The command line as a runtime sees it: the real entry (or the artifact in
 * `CNISHIM_ARTIFACT`) run as a child, against fake plugins that record
 * every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { type FakeCall, FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { listFiles } from "../_helpers/shell.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
const NETNS = "/proc/self/ns/net";

interface NetSpec {
  name: string;
  plugins: Record<string, unknown>[];
}

/** A conf dir and an empty shim config beside the fake plugins. */
async function confFor(
  fake: FakePlugins,
  networks: NetSpec[],
): Promise<{ conf: string; config: string; flags: string[] }> {
  const conf = await fake.writeConfDir(
    Object.fromEntries(
      networks.map((net, i) => [
        `${10 + i}-${net.name}.conflist`,
        { cniVersion: "1.0.0", ...net },
      ]),
    ),
  );
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  return {
    conf,
    config,
    flags: fake.cliFlags(conf, config),
  };
}

function plugins(...types: string[]): Record<string, unknown>[] {
  return types.map((type) => ({ type }));
}

/** `type COMMAND ifname` per call, the readable form of a call log. */
function trace(calls: FakeCall[]): string[] {
  return calls.map((c) => `${c.type} ${c.command} ${c.env.CNI_IFNAME ?? ""}`);
}

Deno.test("cnishim exits 2 on usage errors, naming the flag or command, and prints nothing on stdout", async (t) => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  const cases: {
    name: string;
    argv: string[];
    env?: Record<string, string>;
    mention: string;
  }[] = [
    {
      name: "a flag without its value",
      argv: ["add", "c1", NETNS, "--ifname"],
      mention: '"--ifname" needs a value',
    },
    {
      name: "an unknown flag",
      argv: ["add", "c1", NETNS, "--frobnicate", "1"],
      mention: '"--frobnicate"',
    },
    {
      name: "a single-dash flag",
      argv: ["status", "-v"],
      mention: '"-v"',
    },
    {
      name: "a bad duration",
      argv: ["status", "--timeout", "soon"],
      mention: "--timeout",
    },
    {
      name: "a missing argument",
      argv: ["add", "c1"],
      mention: "usage: cnishim add <container-id> <netns-path>",
    },
    {
      name: "an unknown command",
      argv: ["frobnicate"],
      mention: 'Unknown command "frobnicate"',
    },
    {
      name: "a bogus network plugin flag",
      argv: ["status", "--network-plugin", "bogus"],
      mention: '--network-plugin: network plugin "bogus" not found',
    },
    {
      name: "a bogus network plugin from the environment",
      argv: ["status"],
      env: { CNISHIM_NETWORK_PLUGIN: "bogus" },
      mention: 'CNISHIM_NETWORK_PLUGIN: network plugin "bogus" not found',
    },
    {
      name: "a bad --output",
      argv: ["add", "c1", NETNS, "--output", "yaml"],
      mention: '--output "yaml"',
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const run = await runCli(
        [...flags, ...c.argv],
        c.env ? { env: c.env } : {},
      );
      equal(run.code, 2, explain(run));
      equal(run.stdout, "");
      ok(run.stderr.includes(c.mention), `stderr: ${run.stderr}`);
      ok(run.stderr.includes('Run "cnishim --help"'), run.stderr);
    });
  }
  await t.step("no command prints the help and exits 2", async () => {
    const run = await runCli([]);
    equal(run.code, 2, explain(run));
    match(run.stdout, /^cnishim — /);
    match(run.stdout, /\n {2}add <container-id> <netns-path> /);
  });
  await t.step("--help prints the help and exits 0", async () => {
    const run = await runCli(["--help"]);
    equal(run.code, 0, explain(run));
    match(run.stdout, /--cni-bin-dir DIRS/);
  });
  equal((await fake.calls()).length, 0, "no plugin ran");
});

Deno.test("cnishim version prints the shim version and the CNI versions as JSON", async () => {
  const run = await runCli(["version"]);
  equal(run.code, 0, explain(run));
  const deno = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  const out = run.json<{ version: string; cniVersions: string[] }>();
  // A built artifact carries the git describe suffix (scripts/_version.ts).
  match(
    out.version,
    new RegExp(
      `^${deno.version.replaceAll(".", "\\.")}(\\+g[0-9a-f]+(\\.dirty)?)?$`,
    ),
  );
  deepEqual(out, {
    version: out.version,
    cniVersions: [
      "0.1.0",
      "0.2.0",
      "0.3.0",
      "0.3.1",
      "0.4.0",
      "1.0.0",
      "1.1.0",
    ],
  });
  equal(run.stderr, "");
});

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

/**
 * The conf dir `networks` used when it was left to the default: its listing
 * when that dir exists on this machine, else the one its error names.
 */
async function defaultConfDir(argv: string[]): Promise<string> {
  const run = await runCli(["networks", ...argv]);
  if (await Deno.stat("/etc/cni/net.d").then(() => true, () => false)) {
    equal(run.code, 0, explain(run));
    return run.json<{ confDir: string }>().confDir;
  }
  equal(run.code, 1, explain(run));
  return String(run.json<{ details: string }>().details);
}

Deno.test("cnishim settings: flag > CNISHIM_* environment > config file > default", async (t) => {
  await using fake = await FakePlugins.create([]);
  const root = fake.root;
  const dirs = {
    flag: join(root, "conf-flag"),
    env: join(root, "conf-env"),
    file: join(root, "conf-file"),
  };
  for (const dir of Object.values(dirs)) await Deno.mkdir(dir);
  const bins: Record<string, FakePlugins> = {};
  await using flagBin = await FakePlugins.create(["a"]);
  await using envBin = await FakePlugins.create(["a"]);
  await using fileBin = await FakePlugins.create(["a"]);
  bins.flag = flagBin;
  bins.env = envBin;
  bins.file = fileBin;
  const net = join(root, "net.d");
  await Deno.mkdir(net);
  await Deno.writeTextFile(
    join(net, "10-n1.conflist"),
    JSON.stringify({ cniVersion: "1.0.0", name: "n1", plugins: plugins("a") }),
  );
  const config = join(root, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      "cni-conf-dir": dirs.file,
      "cni-bin-dir": [fileBin.binDir],
    }),
  );
  const empty = join(root, "empty.json");
  await Deno.writeTextFile(empty, "{}");

  await t.step("cni-conf-dir, observed in `networks`", async () => {
    const confDir = async (argv: string[], env: Record<string, string>) => {
      const run = await runCli(["networks", ...argv], { env });
      equal(run.code, 0, explain(run));
      return run.json<{ confDir: string }>().confDir;
    };
    const env = { CNISHIM_CNI_CONF_DIR: dirs.env };
    equal(
      await confDir(["--config", config, "--cni-conf-dir", dirs.flag], env),
      dirs.flag,
    );
    equal(await confDir(["--config", config], env), dirs.env);
    equal(await confDir(["--config", config], {}), dirs.file);
    equal(
      await confDir([], { CNISHIM_CONFIG: config }),
      dirs.file,
      "CNISHIM_CONFIG names the config file too",
    );
    equal(await defaultConfDir(["--config", empty]), "/etc/cni/net.d");
  });

  await t.step("cni-bin-dir, observed by which fake plugin ran", async () => {
    const common = ["--cni-conf-dir", net, "--cni-cache-dir", fake.cacheDir];
    const env = { CNISHIM_CNI_BIN_DIR: envBin.binDir };
    const add = async (
      cid: string,
      argv: string[],
      e: Record<string, string>,
    ) => {
      const run = await runCli(["add", cid, NETNS, ...common, ...argv], {
        env: e,
      });
      equal(run.code, 0, explain(run));
    };
    await add(
      "by-flag",
      ["--config", config, "--cni-bin-dir", flagBin.binDir],
      env,
    );
    await add("by-env", ["--config", config], env);
    await add("by-file", ["--config", config], {});
    const ran = async (b: FakePlugins) =>
      (await b.calls()).map((c) => c.env.CNI_CONTAINERID);
    deepEqual(await ran(bins.flag!), ["by-flag"]);
    deepEqual(await ran(bins.env!), ["by-env"]);
    deepEqual(await ran(bins.file!), ["by-file"]);
    // The default (/opt/cni/bin) has no plugin "a".
    const run = await runCli([
      "add",
      "by-default",
      NETNS,
      ...common,
      "--config",
      empty,
    ]);
    equal(run.code, 1, explain(run));
    match(run.json<{ msg: string }>().msg, /"a".*\/opt\/cni\/bin/);
  });

  await t.step(
    "a boolean from the environment, refused when not boolean",
    async () => {
      const run = await runCli(["networks", "--config", empty], {
        env: { CNISHIM_SERIAL: "maybe" },
      });
      equal(run.code, 2, explain(run));
      match(run.stderr, /CNISHIM_SERIAL: expected true or false/);
    },
  );

  await t.step("an unknown key in the config file is refused", async () => {
    const bad = join(root, "bad.json");
    await Deno.writeTextFile(bad, JSON.stringify({ "cni-bin-dirs": [] }));
    const run = await runCli(["networks", "--config", bad]);
    equal(run.code, 2, explain(run));
    match(run.stderr, /unknown keys "cni-bin-dirs"/);
  });
});

Deno.test("cnishim del with nothing cached succeeds and reports nothing removed", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  for (const argv of [["del", "never-added"], ["del", "never-added", NETNS]]) {
    const run = await runCli([...argv, ...flags]);
    equal(run.code, 0, explain(run));
    deepEqual(run.json(), { removed: [], warnings: [] });
  }
  equal((await fake.calls()).length, 0);
});

Deno.test("cnishim networks lists valid networks in order and reports skipped files", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { conf, flags } = await confFor(fake, [
    { name: "first", plugins: plugins("a") },
    { name: "second", plugins: plugins("a", "b") },
  ]);
  await Deno.writeTextFile(join(conf, "05-broken.conflist"), "{ not json");
  await Deno.writeTextFile(
    join(conf, "30-noplugins.conflist"),
    JSON.stringify({ cniVersion: "1.0.0", name: "noplugins" }),
  );
  await Deno.writeTextFile(
    join(conf, "40-dup.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "first",
      plugins: plugins("a"),
    }),
  );
  await Deno.writeTextFile(join(conf, "50-ignored.txt"), "not a conf file");
  const run = await runCli(["networks", ...flags]);
  equal(run.code, 0, explain(run));
  const out = run.json<{
    confDir: string;
    defaultNetwork: string;
    networks: { name: string; file: string; plugins: string[] }[];
    skipped: { file: string; reason: string; code: number }[];
  }>();
  equal(out.confDir, conf);
  equal(out.defaultNetwork, "first");
  deepEqual(
    out.networks.map((n) => [n.name, n.file, n.plugins]),
    [
      ["first", join(conf, "10-first.conflist"), ["a"]],
      ["second", join(conf, "11-second.conflist"), ["a", "b"]],
    ],
  );
  deepEqual(out.skipped.map((s) => s.file), [
    join(conf, "05-broken.conflist"),
    join(conf, "30-noplugins.conflist"),
    join(conf, "40-dup.conflist"),
  ]);
  for (const s of out.skipped) {
    ok(s.reason.length > 0 && typeof s.code === "number", JSON.stringify(s));
  }
  match(out.skipped[2]!.reason, /duplicate of network "first"/);
  for (const s of out.skipped) {
    ok(run.stderr.includes(`skipped ${s.file}: `), run.stderr);
  }
});

Deno.test("cnishim add builds CNI_ARGS from the pod flags in ocicni's fixed order", async () => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  const run = await runCli([
    "add",
    "cid-args",
    NETNS,
    "--pod-uid",
    "uid-123",
    "--pod-name",
    "web-0",
    "--pod-namespace",
    "prod",
    "--args",
    "EXTRA=1",
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  const calls = await fake.calls();
  // Networks (loopback too) attach in parallel: no order between them.
  deepEqual(trace(calls).sort(), ["a ADD eth0", "loopback ADD lo"]);
  for (const call of calls) {
    equal(
      call.env.CNI_ARGS,
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;" +
        "K8S_POD_INFRA_CONTAINER_ID=cid-args;K8S_POD_UID=uid-123;EXTRA=1",
      call.type,
    );
    equal(call.env.CNI_CONTAINERID, "cid-args");
    equal(call.env.CNI_NETNS, NETNS);
  }
  const out = run.json<{ networks: { name: string; interface: string }[] }>();
  deepEqual(out.networks.map((n) => [n.name, n.interface]), [["n1", "eth0"]]);
  equal((out as Record<string, unknown>).loopback, true);
});

Deno.test("cnishim add turns CRI port mappings into the portMappings runtimeConfig", async () => {
  await using fake = await FakePlugins.create(["a", "pm"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: [
      { type: "a" },
      { type: "pm", capabilities: { portMappings: true } },
    ],
  }]);
  const cri = [
    { protocol: 1, container_port: 53, host_port: 5353, host_ip: "127.0.0.1" },
    { protocol: 0, container_port: 80, host_port: 8080 },
    { protocol: 0, container_port: 9090 },
  ];
  const run = await runCli([
    "add",
    "cid-ports",
    NETNS,
    "--port-mappings",
    JSON.stringify(cri),
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  const calls = await fake.calls();
  const pm = calls.find((c) => c.type === "pm" && c.command === "ADD")!;
  deepEqual(pm.stdin.runtimeConfig, {
    portMappings: [
      {
        hostPort: 5353,
        containerPort: 53,
        protocol: "udp",
        hostIP: "127.0.0.1",
      },
      { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    ],
  });
  const a = calls.find((c) => c.type === "a" && c.command === "ADD")!;
  equal(a.stdin.runtimeConfig, undefined, "only capable plugins get it");
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

Deno.test("cnishim add reads --annotations from @file", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { flags } = await confFor(fake, [
    { name: "main", plugins: plugins("a") },
    { name: "storage", plugins: plugins("b") },
  ]);
  const file = join(fake.root, "annotations.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ "k8s.v1.cni.cncf.io/networks": "storage@net9" }),
  );
  const run = await runCli([
    "add",
    "cid-file",
    NETNS,
    "--annotations",
    `@${file}`,
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  deepEqual(trace(await fake.calls()).sort(), ["a ADD eth0", "b ADD net9"]);
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

Deno.test('cnishim config file: "" for a path key means the default, as in iSulad\'s daemon.json', async () => {
  await using fake = await FakePlugins.create([]);
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      "cni-conf-dir": "",
      "cni-bin-dir": "",
      "cni-cache-dir": "",
      "log-file": "",
    }),
  );
  equal(await defaultConfDir(["--config", config]), "/etc/cni/net.d");
});

Deno.test("cnishim add, status and networks say that a missing conf dir is missing, and name it", async (t) => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const missing = join(fake.root, "no-such-net.d");
  const flags = fake.cliFlags(missing, join(fake.root, "none.json"));
  await Deno.writeTextFile(join(fake.root, "none.json"), "{}");
  const said = new RegExp(
    `conf dir "${missing.replaceAll("/", "\\/")}" does not exist`,
  );
  await t.step("add", async () => {
    const run = await runCli(["add", "c-miss", NETNS, ...flags]);
    equal(run.code, 1, explain(run));
    const err = run.json<{ code: number; msg: string }>();
    equal(err.code, 11);
    match(err.msg, said);
    deepEqual(await fake.calls(), [], "no plugin ran");
  });
  await t.step("status", async () => {
    const run = await runCli(["status", ...flags]);
    equal(run.code, 1, explain(run));
    match(run.json<{ reasons: string[] }>().reasons.join("\n"), said);
    match(run.stderr, said);
  });
  await t.step("networks", async () => {
    const run = await runCli(["networks", ...flags]);
    equal(run.code, 1, explain(run));
    match(run.json<{ msg: string }>().msg, said);
  });
});

Deno.test("a failing command prints the one promised line on stderr; the timestamped log line goes to the log file, or to stderr only at debug", async (t) => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  await fake.answer("a", "ADD", {
    stdout: { cniVersion: "1.0.0", code: 11, msg: "no more leases" },
    exit: 1,
  });
  const line =
    'cnishim: Plugin "a" failed (ADD): no more leases (CNI error code 11)\n';
  await t.step("default level: that line alone", async () => {
    const run = await runCli(["add", "c1", NETNS, ...flags]);
    equal(run.code, 1, explain(run));
    equal(run.stderr, line);
  });
  await t.step(
    "--log-file: the line on stderr, the log line in the file",
    async () => {
      const log = join(fake.root, "cnishim.log");
      const run = await runCli([
        "add",
        "c1",
        NETNS,
        ...flags,
        "--log-file",
        log,
      ]);
      equal(run.code, 1, explain(run));
      equal(run.stderr, line);
      match(
        await Deno.readTextFile(log),
        /^\d{4}-\d\d-\d\dT\S+Z error add failed \{"code":11,"error":"Plugin \\"a\\" failed \(ADD\): no more leases"\}$/m,
      );
    },
  );
  await t.step("--log-level debug: the log line too, on stderr", async () => {
    const run = await runCli([
      "add",
      "c1",
      NETNS,
      ...flags,
      "--log-level",
      "debug",
    ]);
    equal(run.code, 1, explain(run));
    ok(run.stderr.endsWith(line), run.stderr);
    match(run.stderr, /^\S+Z debug add failed \{"code":11/m);
  });
  await t.step("--log-format json: one JSON object per log line", async () => {
    const run = await runCli([
      "add",
      "c1",
      NETNS,
      ...flags,
      "--log-level=debug",
      "--log-format=json",
    ]);
    equal(run.code, 1, explain(run));
    const logLines = run.stderr.split("\n").filter((l) => l.startsWith("{"));
    ok(logLines.length > 0, run.stderr);
    const objects = logLines.map((l) => JSON.parse(l));
    for (const o of objects) {
      match(o.time, /^\d{4}-\d\d-\d\dT.*Z$/);
      ok(["debug", "info", "notice", "warn", "error"].includes(o.level));
      equal(typeof o.msg, "string");
    }
    const failed = objects.find((o) => o.msg === "add failed");
    // The fixed keys first, for shippers that read lines as they come.
    deepEqual(Object.keys(failed).slice(0, 3), ["time", "level", "msg"]);
    deepEqual({ ...failed, time: "" }, {
      time: "",
      level: "debug",
      msg: "add failed",
      code: 11,
      error: 'Plugin "a" failed (ADD): no more leases',
    });
    // Everything else on stderr is the promised line.
    equal(
      run.stderr.split("\n").filter((l) => l && !l.startsWith("{")).join("\n"),
      line.trim(),
    );
  });
  await t.step(
    "--log-format anything else is a usage error naming it",
    async () => {
      const run = await runCli(["status", ...flags, "--log-format", "xml"]);
      equal(run.code, 2, explain(run));
      match(run.stderr, /Invalid --log-format: "xml" is not one of text, json/);
    },
  );
});

Deno.test("cnishim gc refuses to tear down everything unless --all is given", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  for (const id of ["c1", "c2"]) {
    const add = await runCli(["add", id, NETNS, ...flags]);
    equal(add.code, 0, explain(add));
  }
  const refused = await runCli(["gc", ...flags]);
  equal(refused.code, 2, explain(refused));
  equal(refused.stdout, "");
  match(
    refused.stderr,
    /gc without --keep would tear down every cached container: .*--all/,
  );
  const both = await runCli(["gc", "--all", "--keep", "c1", ...flags]);
  equal(both.code, 2, explain(both));
  match(both.stderr, /"--all" and "--keep" exclude each other/);
  // Nothing was torn down by the refusals.
  deepEqual(trace(await fake.calls()), ["a ADD eth0", "a ADD eth0"]);

  const keep = await runCli(["gc", "--keep", "c1", ...flags]);
  equal(keep.code, 0, explain(keep));
  const all = await runCli(["gc", "--all", ...flags]);
  equal(all.code, 0, explain(all));
  deepEqual(
    (await fake.calls()).filter((c) => c.command === "DEL").map((c) =>
      c.env.CNI_CONTAINERID
    ),
    ["c2", "c1"],
  );
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
});

Deno.test("cnishim --version prints what cnishim version prints", async () => {
  const want = await runCli(["version"]);
  const run = await runCli(["--version"]);
  equal(run.code, 0, explain(run));
  equal(run.stdout, want.stdout);
  equal(run.stderr, "");
  const mixed = await runCli(["--version", "add"]);
  equal(mixed.code, 2, explain(mixed));
});

Deno.test("cnishim --help shows the defaults in effect, with where each comes from", async () => {
  await using fake = await FakePlugins.create([]);
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      "cni-conf-dir": "/srv/cni/net.d",
      timeout: "5s",
      "cni-bin-dir": ["/opt/a", "/opt/b"],
    }),
  );
  const run = await runCli(["--help", "--config", config], {
    env: { CNISHIM_LOG_LEVEL: "debug" },
  });
  equal(run.code, 0, explain(run));
  const flagLine = (name: string) =>
    run.stdout.split("\n").find((l) => l.startsWith(`  --${name} `)) ?? "";
  match(
    flagLine("cni-conf-dir"),
    new RegExp(
      `\\[default: /srv/cni/net\\.d, from "cni-conf-dir" in ${config}\\]`,
    ),
  );
  match(flagLine("timeout"), /\[default: 5s, from "timeout" in /);
  match(flagLine("cni-bin-dir"), /\[default: \/opt\/a:\/opt\/b, from /);
  match(flagLine("log-level"), /\[default: debug, from CNISHIM_LOG_LEVEL\]/);
  // Untouched settings show the built-in default.
  match(flagLine("cni-cache-dir"), /\[default: \/var\/lib\/cni\]/);

  // A config file that cannot be used does not hide the help.
  const broken = join(fake.root, "broken.json");
  await Deno.writeTextFile(broken, "{");
  const still = await runCli(["--help", "--config", broken]);
  equal(still.code, 0, explain(still));
  match(still.stdout, /Config file not used: Cannot parse config file/);
  match(
    still.stdout,
    /--cni-conf-dir DIR +Network config directory \[default: \/etc\/cni\/net\.d\]/,
  );
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
