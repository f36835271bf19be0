/**
 * What a real node sends, taken as its neighbours take it (issue 24): a
 * real iSulad daemon.json as the settings file, iSulad's annotation
 * entries with keys of their own, an OCI poststop state with `"pid": 0`,
 * a CHECK of nothing, and output that cannot be written. The real entry
 * as a child, against fake plugins.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { baseEnv, cliCommand, explain, runCli } from "../_helpers/run_cli.ts";
import { listFiles } from "../_helpers/shell.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
const NETNS = "/proc/self/ns/net";
const DAEMON_JSON = new URL("../testdata/isulad/daemon.json", import.meta.url)
  .pathname;

/** One network `n1` of plugin `a`, and flags pointing at it. */
async function bed(
  config = "{}",
): Promise<{ fake: FakePlugins; flags: string[]; conf: string }> {
  const fake = await FakePlugins.create(["a"]);
  const conf = await fake.writeConfDir({
    "10-n1.conflist": {
      cniVersion: "1.0.0",
      name: "n1",
      plugins: [{ type: "a" }],
    },
    "20-n2.conflist": {
      cniVersion: "1.0.0",
      name: "n2",
      plugins: [{ type: "a" }],
    },
  });
  const file = join(fake.root, "config.json");
  await Deno.writeTextFile(file, config);
  return { fake, conf, flags: fake.cliFlags(conf, file) };
}

Deno.test("a real iSulad daemon.json is read as the settings file: its own keys are ignored, a typo of cnishim's is still refused", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const conf = await fake.writeConfDir({
    "10-n1.conflist": {
      cniVersion: "1.0.0",
      name: "n1",
      plugins: [{ type: "a" }],
    },
  });
  const flags = [
    "--cni-conf-dir",
    conf,
    "--cni-bin-dir",
    fake.binDir,
    "--cni-cache-dir",
    fake.cacheDir,
  ];
  const run = await runCli(["networks", "--config", DAEMON_JSON, ...flags]);
  equal(run.code, 0, explain(run));
  deepEqual(
    run.json<{ networks: { name: string }[] }>().networks.map((n) => n.name),
    ["n1"],
  );
  // Its "log-level": "ERROR" is iSulad's name for cnishim's error level.
  const help = await runCli(["--help", "--config", DAEMON_JSON]);
  equal(help.code, 0, explain(help));
  match(help.stdout, /error[^\n]*"log-level" in [^\n]*daemon\.json/);
  ok(!help.stdout.includes("Config file not used"), help.stdout);

  const typo = join(fake.root, "typo.json");
  const text = await Deno.readTextFile(DAEMON_JSON);
  await Deno.writeTextFile(
    typo,
    text.replace('"network-plugin"', '"network-plugn"'),
  );
  const refused = await runCli(["networks", "--config", typo, ...flags]);
  equal(refused.code, 2, explain(refused));
  match(refused.stderr, /unknown keys "network-plugn"/);
  ok(!refused.stderr.includes('"hosts"'), refused.stderr);
});

Deno.test('hook: a poststop state with "pid": 0 (no process, as the OCI runtime spec allows) tears the pod down; a creating state with pid 0 is refused', async () => {
  const { fake, flags } = await bed();
  await using _ = fake;
  const add = await runCli(["add", "hook0", NETNS, ...flags]);
  equal(add.code, 0, explain(add));
  ok((await listFiles(join(fake.cacheDir, "results"))).length > 0);
  const state = (status: string) =>
    JSON.stringify({
      ociVersion: "1.0.2",
      id: "hook0",
      status,
      pid: 0,
      bundle: "/nonexistent",
      annotations: {},
    });
  const stop = await runCli(["hook", ...flags], { stdin: state("stopped") });
  equal(stop.code, 0, explain(stop));
  deepEqual(
    stop.json<{ removed: { network: string }[] }>().removed.map((r) =>
      r.network
    ),
    ["n1"],
  );
  deepEqual(await listFiles(join(fake.cacheDir, "results")), []);
  const create = await runCli(["hook", ...flags], { stdin: state("creating") });
  equal(create.code, 1, explain(create));
  match(create.stderr, /"pid" is 0 on a "creating" state/);
});

Deno.test("add takes iSulad's annotation entries with keys of their own (network_plane), attaching the network and saying at debug what it ignored", async () => {
  const { fake, flags } = await bed();
  await using _ = fake;
  const annotations = {
    "network.alpha.kubernetes.io/network": JSON.stringify([
      { name: "n2", interface: "eth1", network_plane: "storage" },
    ]),
  };
  const add = await runCli([
    "add",
    "isl1",
    NETNS,
    "--annotations",
    JSON.stringify(annotations),
    "--log-level",
    "debug",
    ...flags,
  ]);
  equal(add.code, 0, explain(add));
  deepEqual(
    add.json<{ networks: { name: string; interface: string }[] }>().networks
      .map((n) => `${n.name}/${n.interface}`),
    ["n1/eth0", "n2/eth1"],
  );
  match(add.stderr, /annotation keys ignored.*\[0\]\.network_plane/);
  const del = await runCli(["del", "isl1", ...flags]);
  equal(del.code, 0, explain(del));
});

Deno.test("check of a container that was never set up fails with code 4 and leaves no lock file", async () => {
  const { fake, flags } = await bed();
  await using _ = fake;
  const run = await runCli(["check", "never-set-up", NETNS, ...flags]);
  equal(run.code, 1, explain(run));
  const error = run.json<{ code: number; msg: string }>();
  equal(error.code, 4);
  match(error.msg, /"never-set-up": it is not set up/);
  deepEqual(
    (await listFiles(join(fake.cacheDir, "locks"))).filter((f) =>
      f !== "gc.lock"
    ),
    [],
  );
  equal((await fake.calls()).length, 0);
  // A set-up container still checks.
  const add = await runCli(["add", "set-up", NETNS, ...flags]);
  equal(add.code, 0, explain(add));
  const ok1 = await runCli(["check", "set-up", NETNS, ...flags]);
  equal(ok1.code, 0, explain(ok1));
  const del = await runCli(["del", "set-up", ...flags]);
  equal(del.code, 0, explain(del));
});

/**
 * Runs the CLI with one stream sent to /dev/full (`sh` only redirects;
 * cnishim is exec'd), the other piped.
 */
async function runToFull(
  stream: "stdout" | "stderr",
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...lead] = cliCommand();
  const redirect = stream === "stdout" ? ">/dev/full" : "2>/dev/full";
  const out = await new Deno.Command("sh", {
    args: ["-c", `exec "$@" ${redirect}`, "sh", cmd, ...lead, ...args],
    clearEnv: true,
    env: baseEnv(),
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

Deno.test("write errors on stdout or stderr are caught once: exit 3 (output lost) with one stderr line, no stack, stdout never written twice", async (t) => {
  const { fake, flags } = await bed();
  await using _ = fake;
  const lostLine = (stderr: string, status: number) => {
    const lines = stderr.trim().split("\n");
    equal(lines.length, 1, stderr);
    match(
      lines[0]!,
      new RegExp(
        `^cnishim: output lost \\(stdout: .*\\); the command itself ended with exit status ${status}$`,
      ),
    );
  };

  await t.step("version >/dev/full", async () => {
    const run = await runToFull("stdout", ["version"]);
    equal(run.code, 3, explain(run));
    lostLine(run.stderr, 0);
  });

  await t.step("--help into a closed pipe", async () => {
    const [cmd, ...lead] = cliCommand();
    const child = new Deno.Command(cmd, {
      args: [...lead, "--help"],
      clearEnv: true,
      env: baseEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Closed long before the runtime has started and writes.
    await child.stdout.cancel();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    equal(status.code, 3, stderr);
    lostLine(stderr, 0);
  });

  await t.step(
    "add >/dev/full sets the pod up, caches it, and says so",
    async () => {
      const run = await runToFull("stdout", ["add", "full1", NETNS, ...flags]);
      equal(run.code, 3, explain(run));
      lostLine(run.stderr, 0);
      deepEqual(await listFiles(join(fake.cacheDir, "results")), [
        "n1-full1-eth0",
      ]);
      const del = await runCli(["del", "full1", ...flags]);
      equal(del.code, 0, explain(del));
    },
  );

  await t.step(
    "a failing add with stderr full prints one error object",
    async () => {
      const run = await runToFull("stderr", [
        "add",
        "full2",
        NETNS,
        "--annotations",
        JSON.stringify({ "k8s.v1.cni.cncf.io/networks": "nope" }),
        ...flags,
      ]);
      equal(run.code, 3, explain(run));
      const error = JSON.parse(run.stdout) as { code: number; msg: string };
      equal(error.code, 7);
      match(error.msg, /"nope"/);
    },
  );
});
