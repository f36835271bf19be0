/**
 * `loadNetworks`'s early stop: a cold ADD reads the conf dir only up to the
 * default network and the extra networks it names.
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { loadNetworks } from "../../src/config/load_networks.ts";
import { loadNetworkConfigList } from "../../src/config/parse_network_config.ts";
import { conflistText, networkNames } from "../_helpers/lists.ts";
import { createTempDir } from "../_helpers/shell.ts";

Deno.test("loadNetworks stopWhenFound reads up to the default and the named networks, no further", async () => {
  await using tmp = await createTempDir("cnishim-load-");
  const dir = tmp.path;
  await Deno.writeTextFile(join(dir, "10-bad.conflist"), "{ nope");
  await Deno.writeTextFile(join(dir, "20-a.conflist"), conflistText("a"));
  await Deno.writeTextFile(join(dir, "30-b.conflist"), conflistText("b"));
  await Deno.writeTextFile(join(dir, "40-c.conflist"), conflistText("c"));
  const read: string[] = [];
  const spy = {
    loadList: async (file: string) => {
      read.push(file.slice(dir.length + 1));
      return await loadNetworkConfigList(file);
    },
  };
  const first = await loadNetworks(dir, { ...spy, stopWhenFound: [] });
  deepEqual(networkNames(first), ["a"]);
  equal(first.defaultNetwork?.name, "a");
  deepEqual(first.skipped.map((s) => s.code), [6]);
  deepEqual(read, ["10-bad.conflist", "20-a.conflist"]);

  read.length = 0;
  const withExtra = await loadNetworks(dir, { ...spy, stopWhenFound: ["c"] });
  deepEqual(networkNames(withExtra), ["a", "b", "c"]);
  equal(read.length, 4);

  read.length = 0;
  const missing = await loadNetworks(dir, { ...spy, stopWhenFound: ["zz"] });
  deepEqual(missing, await loadNetworks(dir), "not found: a full scan");
});
