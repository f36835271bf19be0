/**
 * `cnishim --help`: the defaults in effect, with where each comes from.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { equal, match } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";

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
