/**
 * Figure 7, serve: one request per operation sent from this process (no
 * process start-up at all) against the plugins' own time; and the same
 * requests to a second server started with `--no-metrics`, interleaved
 * with the first's, for what keeping metrics costs a request.
 *
 * @module
 */
import { round as round2, sample, type Stats, stats } from "./_harness.ts";
import type { BenchBed, Floors } from "./_fixtures.ts";

/** Figure 7 (the trivial chain; the real pods are in figures 3 and 4). */
export interface ServeFigure {
  /** The plugins' own ADD. */
  floorAdd: Stats;
  /** The plugins' own DEL. */
  floorDel: Stats;
  /** An ADD request. */
  requestAdd: Stats;
  /** A DEL request. */
  requestDel: Stats;
  /** ADD request over the plugins, ms. */
  addOverheadMs: number;
  /** DEL request over the plugins, ms. */
  delOverheadMs: number;
  /** A request running no plugin. */
  roundTripNoPlugins: Stats;
  /** The same requests to a server without metrics (`--no-metrics`). */
  noMetrics: {
    requestAdd: Stats;
    requestDel: Stats;
    roundTripNoPlugins: Stats;
  };
  /** Median with metrics minus median without, ms, per request kind. */
  metricsOverheadMs: { add: number; del: number; noPlugins: number };
}

/**
 * Measures figure 7 against the warm server on `socket`, and the one on
 * `socketNoMetrics` (same flags and `--no-metrics`).
 */
export async function measureServe(
  bed: BenchBed,
  floors: Floors,
  socket: string,
  socketNoMetrics: string,
): Promise<ServeFigure> {
  let k = 0;
  const on = { adds: [] as number[], dels: [] as number[], rt: [] as number[] };
  const off = {
    adds: [] as number[],
    dels: [] as number[],
    rt: [] as number[],
  };
  const round = async (at: string, into: typeof on) => {
    const args = [`r${k++}`, "/proc/self/ns/net"];
    into.adds.push(await bed.request(at, "add", { args, flags: {} }));
    into.dels.push(await bed.request(at, "del", { args, flags: {} }));
    into.rt.push(
      await bed.request(at, "result", { args: ["none"], flags: {} }),
    );
  };
  await sample(bed.runs, async () => {
    await round(socket, on);
    await round(socketNoMetrics, off);
    return 0;
  });
  // The warm-up round is the first of each list.
  const [requestAdd, requestDel, roundTripNoPlugins] = [on.adds, on.dels, on.rt]
    .map((xs) => stats(xs.slice(1))) as [Stats, Stats, Stats];
  const noMetrics = {
    requestAdd: stats(off.adds.slice(1)),
    requestDel: stats(off.dels.slice(1)),
    roundTripNoPlugins: stats(off.rt.slice(1)),
  };
  return {
    floorAdd: floors.add,
    floorDel: floors.del,
    requestAdd,
    requestDel,
    addOverheadMs: round2(requestAdd.median - floors.add.median),
    delOverheadMs: round2(requestDel.median - floors.del.median),
    roundTripNoPlugins,
    noMetrics,
    metricsOverheadMs: {
      add: round2(requestAdd.median - noMetrics.requestAdd.median),
      del: round2(requestDel.median - noMetrics.requestDel.median),
      noPlugins: round2(
        roundTripNoPlugins.median - noMetrics.roundTripNoPlugins.median,
      ),
    },
  };
}

/** Figure 7 in one line. */
export function describeServe(f: ServeFigure): string {
  return `7. serve, 3 trivial plugins: ADD request ${f.requestAdd.median} ms vs plugins ${f.floorAdd.median} ms (+${f.addOverheadMs} ms); DEL request ${f.requestDel.median} ms vs ${f.floorDel.median} ms (+${f.delOverheadMs} ms); a request running no plugin ${f.roundTripNoPlugins.median} ms; metrics on vs off (--no-metrics): ADD ${f.requestAdd.median} vs ${f.noMetrics.requestAdd.median} ms (${
    signed(f.metricsOverheadMs.add)
  }), DEL ${f.requestDel.median} vs ${f.noMetrics.requestDel.median} ms (${
    signed(f.metricsOverheadMs.del)
  }), no plugin ${f.roundTripNoPlugins.median} vs ${f.noMetrics.roundTripNoPlugins.median} ms (${
    signed(f.metricsOverheadMs.noPlugins)
  })`;
}

function signed(ms: number): string {
  return `${ms >= 0 ? "+" : ""}${ms} ms`;
}
