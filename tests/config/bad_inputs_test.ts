import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { loadNetworkConfigList } from "../../src/config/parse_network_config.ts";
import { addNetworkList } from "../../src/engine/add_network_list.ts";
import { CniError } from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { makeList } from "../_helpers/lists.ts";

interface Row {
  kind: "config" | "identifier";
  name: string;
  code: number;
  mention: string;
  text?: string;
  format?: string;
  field?: "containerId" | "ifName";
  value?: string;
}

const ROWS: Row[] = JSON.parse(
  await Deno.readTextFile(
    new URL("../testdata/bad_inputs.json", import.meta.url),
  ),
);

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("bad inputs get a clear coded error that names them, and touch nothing", async (t) => {
  ok(ROWS.length >= 30, `${ROWS.length} rows`);
  await using fake = await FakePlugins.create(["a"]);
  const list = await makeList({
    cniVersion: "1.0.0",
    name: "n",
    plugins: [{ type: "a" }],
  });
  for (const row of ROWS) {
    await t.step(row.name, async () => {
      let error: unknown;
      let file = "";
      if (row.kind === "config") {
        file = join(fake.root, `bad.${row.format}`);
        const bytes = row.text === "<bytes ff fe>"
          ? new Uint8Array([0xff, 0xfe])
          : new TextEncoder().encode(row.text);
        await Deno.writeFile(file, bytes);
        error = await loadNetworkConfigList(file).then(
          () => undefined,
          (e) => e,
        );
      } else {
        const rt = {
          containerId: "ok1",
          netns: "/var/run/netns/x",
          ifName: "eth0",
          [row.field!]: row.value!,
        };
        error = await addNetworkList(list, rt, {
          binDirs: [fake.binDir],
          cacheDir: fake.cacheDir,
        }).then(() => undefined, (e) => e);
      }
      ok(error instanceof CniError, `expected a CniError, got ${error}`);
      equal(error.code, row.code, error.message);
      ok(
        error.message.includes(row.mention),
        `${error.message} should mention ${row.mention}`,
      );
      if (file) {
        ok(
          error.message.includes(file),
          `${error.message} should name ${file}`,
        );
      }
      ok(/^[A-Z/]/.test(error.message), error.message);
      // Nothing written, per row: no plugin ran, no cache dir, no file
      // beside the bad input itself.
      equal((await fake.calls()).length, 0, "no plugin ran");
      equal(
        await Deno.stat(fake.cacheDir).then(() => "exists", () => "absent"),
        "absent",
        "the cache dir was not even created",
      );
      deepEqual(
        (await listing(fake.root)).filter((n) =>
          n !== "bin" && !n.startsWith("bad.")
        ),
        [],
      );
    });
  }
});
