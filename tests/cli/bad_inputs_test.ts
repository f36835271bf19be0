import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../src/cli/run_cli.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

interface Row {
  name: string;
  argv: string[];
  stdin?: string;
  exit: number;
  code: number;
  mention: string;
}

const ROWS: Row[] = JSON.parse(
  await Deno.readTextFile(
    new URL("../testdata/bad_cli_inputs.json", import.meta.url),
  ),
);

Deno.test("the command line refuses bad input with a coded error naming it, writing nothing", async (t) => {
  ok(ROWS.length >= 90, `${ROWS.length} rows`);
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const conf = await fake.writeConfDir(
    Object.fromEntries(
      ["n1", "n2"].map((name) => [
        `10-${name}.conflist`,
        { cniVersion: "1.0.0", name, plugins: [{ type: "a" }] },
      ]),
    ),
  );
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  const common = fake.cliFlags(conf, config);
  for (const row of ROWS) {
    await t.step(row.name, async () => {
      let stdout = "";
      let stderr = "";
      const exit = await runCli([...common, ...row.argv], {
        stdout: (s) => stdout += s,
        stderr: (s) => stderr += s,
        readStdin: () => Promise.resolve(row.stdin ?? ""),
        env: {},
      });
      equal(exit, row.exit, `exit ${exit}: ${stdout}${stderr}`);
      if (row.exit === 2) {
        ok(
          stderr.includes(row.mention),
          `stderr should mention ${row.mention}: ${stderr}`,
        );
        equal(stdout, "");
      } else {
        const error = JSON.parse(stdout);
        equal(error.code, row.code, stdout);
        ok(
          typeof error.msg === "string" && error.msg.includes(row.mention),
          `msg should mention ${row.mention}: ${error.msg}`,
        );
        ok(stderr.includes(`CNI error code ${row.code}`), stderr);
      }
      equal(
        await Deno.stat(fake.cacheDir).then(() => "written", () => "nothing"),
        "nothing",
      );
    });
  }
  equal((await fake.calls()).length, 0, "no plugin ran");
});
