/**
 * `cnishim del`.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { FakePlugins } from "../../_helpers/fake_plugins.ts";
import { explain, runCli } from "../../_helpers/run_cli.ts";
import { confFor, NETNS, plugins } from "../_cli_bed.ts";

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
