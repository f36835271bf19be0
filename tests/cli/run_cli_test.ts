/**
 * The command line as a runtime sees it, across commands: usage errors,
 * a missing conf dir, and what a failing command prints and logs.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { confFor, NETNS, plugins } from "./_cli_bed.ts";

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
