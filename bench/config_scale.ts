/**
 * Figure 5, config dir scale: 200 files (a third not JSON, some of 1 MiB),
 * the time to the default network, cold and after a change, in-process,
 * through serve's warm set and through `cnishim networks`.
 *
 * @module
 */
import { join } from "node:path";
import { loadNetworks } from "../src/config/load_networks.ts";
import { WarmNetworks } from "../src/serve/warm_networks.ts";
import { elapsed, round, sample, type Stats, stats } from "./_harness.ts";
import type { BenchBed } from "./_fixtures.ts";

/** Figure 5. */
export interface ConfigScale {
  /** Files in the dir. */
  files: number;
  /** A full scan in-process. */
  inProcess: Stats;
  /** A full scan after one file changed, ms. */
  afterOneChangeMs: number;
  /** `cnishim networks`. */
  cliNetworks: Stats;
  /** A scan up to the default network (what a cold ADD reads). */
  defaultOnly: Stats;
  /** serve's warm rescan with nothing changed. */
  warmRescan: Stats;
  /** serve's warm rescan after one change, ms. */
  warmAfterOneChangeMs: number;
}

const FILES = 200;

/** Measures figure 5 with the last artifact. */
export async function measureConfigScale(bed: BenchBed): Promise<ConfigScale> {
  const big = join(bed.tmp, "conf-200");
  await Deno.mkdir(big);
  for (let i = 0; i < FILES; i++) {
    const name = join(big, `${String(i).padStart(3, "0")}-n.conflist`);
    await Deno.writeTextFile(
      name,
      i % 3 === 0 ? "{ not json" : JSON.stringify(
        i % 50 === 1
          ? {
            cniVersion: "1.0.0",
            name: `big${i}`,
            pad: "x".repeat(1024 * 1024 - 200),
            plugins: [{ type: "t1" }],
          }
          : {
            cniVersion: "1.0.0",
            name: `n${i}`,
            plugins: [{ type: "t1" }, { type: "t2" }],
          },
      ),
    );
  }
  const inProcess = stats(
    await sample(10, () => elapsed(() => loadNetworks(big))),
  );
  await Deno.writeTextFile(
    join(big, "150-n.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "changed",
      plugins: [{ type: "t1" }],
    }),
  );
  const afterOneChangeMs = round(await elapsed(() => loadNetworks(big)));
  const defaultOnly = stats(
    await sample(
      10,
      () => elapsed(() => loadNetworks(big, { stopWhenFound: [] })),
    ),
  );
  // serve's warm set: files older than its racy window are kept parsed.
  const old = new Date(Date.now() - 60_000);
  for await (const e of Deno.readDir(big)) {
    await Deno.utime(join(big, e.name), old, old);
  }
  await using warm = new WarmNetworks(big, { rescanMs: 3_600_000 });
  await warm.start();
  const warmRescan = stats(
    await sample(10, () => elapsed(() => warm.rescan())),
  );
  await Deno.writeTextFile(
    join(big, "151-n.conflist"),
    JSON.stringify({ cniVersion: "1.0.0", name: "again", plugins: [] }),
  );
  const warmAfterOneChangeMs = round(await elapsed(() => warm.rescan()));
  const cliNetworks = stats(
    await sample(
      10,
      () =>
        bed.time(bed.last, [
          "networks",
          "--cni-conf-dir",
          big,
          "--config",
          bed.noConfig,
        ]),
    ),
  );
  return {
    files: FILES,
    inProcess,
    afterOneChangeMs,
    cliNetworks,
    defaultOnly,
    warmRescan,
    warmAfterOneChangeMs,
  };
}

/** Figure 5 in one line. */
export function describeConfigScale(f: ConfigScale): string {
  return `5. config dir of ${f.files} files: full scan in-process ${f.inProcess.median} ms (after one change ${f.afterOneChangeMs} ms); to the default only (cold ADD) ${f.defaultOnly.median} ms; serve's warm rescan ${f.warmRescan.median} ms (after one change ${f.warmAfterOneChangeMs} ms); 'cnishim networks' ${f.cliNetworks.median} ms`;
}
