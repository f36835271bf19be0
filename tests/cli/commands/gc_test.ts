/**
 * `cnishim gc`.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../../_helpers/fake_plugins.ts";
import { explain, runCli } from "../../_helpers/run_cli.ts";
import { listFiles } from "../../_helpers/shell.ts";
import { confFor, NETNS, plugins, trace } from "../_cli_bed.ts";

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
