/**
 * `cnishim version` and `--version`.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { explain, runCli } from "../../_helpers/run_cli.ts";

Deno.test("cnishim version prints the shim version and the CNI versions as JSON", async () => {
  const run = await runCli(["version"]);
  equal(run.code, 0, explain(run));
  const deno = JSON.parse(
    await Deno.readTextFile(new URL("../../../deno.json", import.meta.url)),
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

Deno.test("cnishim --version prints what cnishim version prints", async () => {
  const want = await runCli(["version"]);
  const run = await runCli(["--version"]);
  equal(run.code, 0, explain(run));
  equal(run.stdout, want.stdout);
  equal(run.stderr, "");
  const mixed = await runCli(["--version", "add"]);
  equal(mixed.code, 2, explain(mixed));
});
