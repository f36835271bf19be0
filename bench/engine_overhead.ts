/**
 * Figure 2, engine overhead: the trivial chain's ADD and DEL through
 * cnishim against the same three plugins run directly.
 *
 * @module
 */
import { round, sample, type Stats, stats } from "./_harness.ts";
import type { BenchBed, Floors } from "./_fixtures.ts";

/** Figure 2. */
export interface EngineOverhead {
  /** The artifact timed. */
  artifact: string;
  /** The plugins run directly, ADD then DEL. */
  floor: Stats;
  /** The same through cnishim. */
  cnishim: Stats;
  /** cnishim over the floor. */
  ratio: number;
  /** cnishim minus the floor, ms. */
  overheadMs: number;
  /** A bare `deno run`, for scale. */
  bareDenoMs: number;
}

/** Measures figure 2 with the last artifact. */
export async function measureEngineOverhead(
  bed: BenchBed,
  floors: Floors,
  bareDenoMs: number,
): Promise<EngineOverhead> {
  const a = bed.last;
  const flags = bed.trivialFlags("cache-start");
  let j = 0;
  const through = stats(
    await sample(Math.max(bed.runs, 20), async () => {
      const id = `e${j++}`;
      return await bed.time(a, ["add", id, "/proc/self/ns/net", ...flags]) +
        await bed.time(a, ["del", id, ...flags]);
    }),
  );
  return {
    artifact: a.name,
    floor: floors.both,
    cnishim: through,
    ratio: round(through.median / floors.both.median),
    overheadMs: round(through.median - floors.both.median),
    bareDenoMs,
  };
}

/** Figure 2 in one line. */
export function describeEngineOverhead(f: EngineOverhead): string {
  return `2. engine overhead (${f.artifact}): 3 trivial plugins ADD+DEL directly ${f.floor.median} ms, through cnishim ${f.cnishim.median} ms (x${f.ratio}, +${f.overheadMs} ms; bare deno start ${f.bareDenoMs} ms x2)`;
}
