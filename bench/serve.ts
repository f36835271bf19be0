/**
 * Figure 7, serve: one request per operation sent from this process (no
 * process start-up at all) against the plugins' own time.
 *
 * @module
 */
import { round, sample, type Stats, stats } from "./_harness.ts";
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
}

/** Measures figure 7 against the warm server on `socket`. */
export async function measureServe(
  bed: BenchBed,
  floors: Floors,
  socket: string,
): Promise<ServeFigure> {
  let k = 0;
  const adds: number[] = [], dels: number[] = [];
  await sample(bed.runs, async () => {
    const args = [`r${k++}`, "/proc/self/ns/net"];
    adds.push(await bed.request(socket, "add", { args, flags: {} }));
    dels.push(await bed.request(socket, "del", { args, flags: {} }));
    return 0;
  });
  const roundTripNoPlugins = stats(
    await sample(
      bed.runs,
      () => bed.request(socket, "result", { args: ["none"], flags: {} }),
    ),
  );
  const requestAdd = stats(adds.slice(1)), requestDel = stats(dels.slice(1));
  return {
    floorAdd: floors.add,
    floorDel: floors.del,
    requestAdd,
    requestDel,
    addOverheadMs: round(requestAdd.median - floors.add.median),
    delOverheadMs: round(requestDel.median - floors.del.median),
    roundTripNoPlugins,
  };
}

/** Figure 7 in one line. */
export function describeServe(f: ServeFigure): string {
  return `7. serve, 3 trivial plugins: ADD request ${f.requestAdd.median} ms vs plugins ${f.floorAdd.median} ms (+${f.addOverheadMs} ms); DEL request ${f.requestDel.median} ms vs ${f.floorDel.median} ms (+${f.delOverheadMs} ms); a request running no plugin ${f.roundTripNoPlugins.median} ms`;
}
