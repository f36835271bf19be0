/**
 * `cnishim networks`.
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
import { confFor, plugins } from "../_cli_bed.ts";

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
