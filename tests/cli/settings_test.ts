/**
 * Where each setting comes from: flag, `CNISHIM_*` environment, config
 * file, default.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { NETNS, plugins } from "./_cli_bed.ts";

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
