/**
 * `loadNetworks`'s early stop (a cold ADD reads the conf dir only up to the
 * default network and the extra networks it names), and the files it
 * never opens.
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { loadNetworks } from "../../src/config/load_networks.ts";
import { confFiles } from "../../src/config/conf_files.ts";
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

// Issue 24 point 8; fails before it: the file loaded and was the default.
Deno.test("a wrongly typed dns block is refused at load, naming file and field, and the next valid file is the default", async () => {
  await using tmp = await createTempDir("cnishim-load-");
  const dir = tmp.path;
  const bad = (name: string, dns: unknown) =>
    JSON.stringify({
      cniVersion: "1.0.0",
      name,
      plugins: [{ type: "bridge", dns }],
    });
  await Deno.writeTextFile(
    join(dir, "10-dns.conflist"),
    bad("dns1", { nameservers: "8.8.8.8" }),
  );
  await Deno.writeTextFile(
    join(dir, "11-dns.conflist"),
    bad("dns2", { nameservers: ["8.8.8.8"], domain: 5 }),
  );
  await Deno.writeTextFile(
    join(dir, "12-dns.conflist"),
    bad("dns3", { search: ["a", 1] }),
  );
  await Deno.writeTextFile(join(dir, "13-dns.conflist"), bad("dns4", "x"));
  // A well typed block (and Go's null) is fine.
  await Deno.writeTextFile(
    join(dir, "20-a.conflist"),
    bad("a", { nameservers: ["8.8.8.8"], domain: "d", options: null }),
  );
  const loaded = await loadNetworks(dir);
  equal(loaded.defaultNetwork?.name, "a");
  deepEqual(networkNames(loaded), ["a"]);
  deepEqual(
    loaded.skipped.map((s) => [s.file.slice(dir.length + 1), s.code]),
    [
      ["10-dns.conflist", 7],
      ["11-dns.conflist", 7],
      ["12-dns.conflist", 7],
      ["13-dns.conflist", 7],
    ],
  );
  const reasons = loaded.skipped.map((s) => s.reason);
  for (
    const [i, field] of [
      "plugins[0].dns.nameservers",
      "plugins[0].dns.domain",
      "plugins[0].dns.search",
      "plugins[0].dns",
    ].entries()
  ) {
    const reason = reasons[i]!;
    equal(reason.includes(`(field "${field}")`), true, reason);
  }
});

Deno.test("loadNetworks and confFiles skip FIFOs and other special files without opening them; a symlink to a regular file is a conf file", async () => {
  await using tmp = await createTempDir("cnishim-load-");
  const dir = tmp.path;
  await Deno.writeTextFile(join(dir, "real.txt"), conflistText("linked"));
  await Deno.symlink(join(dir, "real.txt"), join(dir, "10-linked.conflist"));
  await Deno.writeTextFile(join(dir, "20-a.conflist"), conflistText("a"));
  const mkfifo = await new Deno.Command("mkfifo", {
    args: [join(dir, "05-fifo.conf"), join(dir, "fifo.target")],
  }).output();
  equal(mkfifo.code, 0);
  await Deno.symlink(join(dir, "fifo.target"), join(dir, "06-to-fifo.conf"));
  await Deno.symlink(join(dir, "nowhere"), join(dir, "07-dangling.conf"));
  await Deno.mkdir(join(dir, "08-dir.conf"));
  // Opening either FIFO would block until a writer came: bounded here.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loaded = await Promise.race([
    loadNetworks(dir),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("a FIFO was opened")), 5000);
    }),
  ]).finally(() => clearTimeout(timer));
  deepEqual(networkNames(loaded), ["linked", "a"]);
  deepEqual(
    loaded.skipped.map((s) => [s.file.slice(dir.length + 1), s.reason]),
    [
      ["05-fifo.conf", "a FIFO, not a regular file: not opened"],
      [
        "06-to-fifo.conf",
        "a symlink to a FIFO, not a regular file: not opened",
      ],
    ],
  );
  deepEqual(
    (await confFiles(dir)).map((f) => f.slice(dir.length + 1)),
    ["10-linked.conflist", "20-a.conflist"],
  );
});
