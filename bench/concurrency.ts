/**
 * Figure 6, concurrency: 50 pods (the trivial chain) added and deleted by
 * 50 concurrent invocations, then by 50 concurrent `--socket` clients.
 *
 * @module
 */
import { round } from "./_harness.ts";
import type { BenchBed } from "./_fixtures.ts";

/** One way of running the 50 pods. */
export interface Throughput {
  /** Wall time of all of them, ms. */
  wallMs: number;
  /** Pods (ADD and DEL) per second. */
  podsPerSecond: number;
  /** Pods that failed. */
  errors: number;
}

/** Figure 6. */
export interface Concurrency extends Throughput {
  /** How many pods. */
  pods: number;
  /** The same through the warm server. */
  viaSocket: Throughput;
}

const PODS = 50;

async function throughput(
  pod: (i: number) => Promise<void>,
): Promise<Throughput> {
  const start = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: PODS }, (_, i) => pod(i)),
  );
  const wall = performance.now() - start;
  return {
    wallMs: round(wall),
    podsPerSecond: round(PODS / (wall / 1000)),
    errors: outcomes.filter((o) => o.status === "rejected").length,
  };
}

/** Measures figure 6 with the last artifact and the server on `socket`. */
export async function measureConcurrency(
  bed: BenchBed,
  socket: string,
): Promise<Concurrency> {
  const a = bed.last;
  const flags = bed.trivialFlags("cache-conc");
  const direct = await throughput(async (i) => {
    await bed.time(a, ["add", `c${i}`, "/proc/self/ns/net", ...flags]);
    await bed.time(a, ["del", `c${i}`, ...flags]);
  });
  const viaSocket = await throughput(async (i) => {
    await bed.time(a, [
      "--socket",
      socket,
      "add",
      `cs${i}`,
      "/proc/self/ns/net",
    ]);
    await bed.time(a, ["--socket", socket, "del", `cs${i}`]);
  });
  return { pods: PODS, ...direct, viaSocket };
}

/** Figure 6 in one line. */
export function describeConcurrency(f: Concurrency): string {
  return `6. ${f.pods} concurrent pods (trivial chain): ${f.wallMs} ms, ${f.podsPerSecond} pods/s add+del, errors ${f.errors}; as --socket clients ${f.viaSocket.wallMs} ms, ${f.viaSocket.podsPerSecond} pods/s, errors ${f.viaSocket.errors}`;
}
