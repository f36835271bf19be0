/**
 * Figure 1, start-up: `version` and `add` (the trivial chain) of every
 * artifact, run itself and as the `--socket` client of a warm server,
 * against a bare `deno run` and the plugins' own ADD time.
 *
 * @module
 */
import { join } from "node:path";
import { peakRss, round, sample, type Stats, stats } from "./_harness.ts";
import { type BenchBed, DENO, type Floors } from "./_fixtures.ts";

/** A bare `deno run` of an empty file. */
export interface BareRow extends Stats {
  /** Its peak RSS. */
  rssKb: number | undefined;
}

/** One artifact's start-up. */
export interface StartupRow {
  /** `cnishim version`. */
  version: Stats;
  /** `cnishim add` of the trivial chain. */
  add: Stats;
  /** The same as a `--socket` client. */
  addViaSocket: Stats;
  /** A `--socket` request running no plugin (a cache lookup). */
  socketNoPlugin: Stats;
  /** The client process alone over a bare `deno run`. */
  socketClientOverBareMs: number;
  /** Peak RSS of `version`. */
  rssKb: number | undefined;
  /** `version` over a bare `deno run`. */
  versionOverBareMs: number;
  /** `add` over its plugins' own time. */
  addOverheadMs: number;
  /** The `--socket` `add` over its plugins' own time. */
  addViaSocketOverheadMs: number;
}

/** Figure 1. */
export interface Startup {
  /** The floor. */
  bare: BareRow;
  /** Each artifact by name. */
  artifacts: Record<string, StartupRow>;
}

/** Measures figure 1 against the warm server on `socket`. */
export async function measureStartup(
  bed: BenchBed,
  floors: Floors,
  socket: string,
): Promise<Startup> {
  const empty = join(bed.tmp, "empty.ts");
  const bare = {
    ...stats(await sample(bed.runs, () => bed.bareDeno())),
    rssKb: await peakRss(DENO, ["run", empty]),
  };
  const flags = bed.trivialFlags("cache-start");
  const artifacts: Record<string, StartupRow> = {};
  let i = 0;
  for (const a of bed.artifacts) {
    const version = stats(
      await sample(bed.runs, () => bed.time(a, ["version"])),
    );
    const add = stats(
      await sample(bed.runs, async () => {
        const id = `s${i++}`;
        const t = await bed.time(a, ["add", id, "/proc/self/ns/net", ...flags]);
        await bed.time(a, ["del", id, ...flags]);
        return t;
      }),
    );
    const addViaSocket = stats(
      await sample(bed.runs, async () => {
        const id = `k${i++}`;
        const t = await bed.time(a, [
          "--socket",
          socket,
          "add",
          id,
          "/proc/self/ns/net",
        ]);
        await bed.time(a, ["--socket", socket, "del", id]);
        return t;
      }),
    );
    const socketNoPlugin = stats(
      await sample(
        bed.runs,
        () => bed.time(a, ["--socket", socket, "result", "none"]),
      ),
    );
    const [cmd, ...lead] = a.argv;
    artifacts[a.name] = {
      version,
      add,
      addViaSocket,
      socketNoPlugin,
      socketClientOverBareMs: round(socketNoPlugin.median - bare.median),
      rssKb: await peakRss(cmd, [...lead, "version"]),
      versionOverBareMs: round(version.median - bare.median),
      addOverheadMs: round(add.median - floors.add.median),
      addViaSocketOverheadMs: round(addViaSocket.median - floors.add.median),
    };
  }
  return { bare, artifacts };
}

/** Figure 1 as a table, one row per artifact (the bare run first). */
export function startupTable(
  figure: Startup,
): Record<string, Record<string, number | string>> {
  const rows: Record<string, Record<string, number | string>> = {
    "bare deno run": {
      "version median": figure.bare.median,
      "version p95": figure.bare.p95,
      "add median": "",
      "add over plugins": "",
      "--socket add median": "",
      "--socket add over plugins": "",
      "--socket no-plugin request": "",
      "peak RSS KB": figure.bare.rssKb ?? "",
    },
  };
  for (const [name, r] of Object.entries(figure.artifacts)) {
    rows[name] = {
      "version median": r.version.median,
      "version p95": r.version.p95,
      "add median": r.add.median,
      "add over plugins": r.addOverheadMs,
      "--socket add median": r.addViaSocket.median,
      "--socket add over plugins": r.addViaSocketOverheadMs,
      "--socket no-plugin request": r.socketNoPlugin.median,
      "peak RSS KB": r.rssKb ?? "",
    };
  }
  return rows;
}
