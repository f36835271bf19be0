/**
 * Figure 4, a pod on three networks: parallel, `--serial` and through
 * serve, against the slowest single network run directly.
 *
 * @module
 */
import { round, type Stats, stats } from "./_harness.ts";
import type { BenchBed } from "./_fixtures.ts";
import type { RealBed } from "./_real_bed.ts";

/** Figure 4. */
export interface MultiNetwork {
  /** The slowest of the three chains run directly. */
  slowestSingleDirect: Stats;
  /** `cnishim add`, networks in parallel. */
  parallel: Stats;
  /** `cnishim add --serial`. */
  serial: Stats;
  /** An ADD request to serve. */
  serveParallel: Stats;
  /** Parallel over the slowest single network. */
  parallelOverSlowest: number;
  /** Serial over the slowest single network. */
  serialOverSlowest: number;
  /** serve over the slowest single network. */
  serveParallelOverSlowest: number;
}

const ROUNDS = 10;

/** Measures figure 4 with the last artifact. */
export async function measureMultiNetwork(
  bed: BenchBed,
  real: RealBed,
): Promise<MultiNetwork> {
  const a = bed.last;
  const ann = JSON.stringify({
    "network.alpha.kubernetes.io/network": JSON.stringify([
      { name: "bench1", interface: "eth1" },
      { name: "bench2", interface: "eth2" },
    ]),
  });
  const single: number[] = [], par: number[] = [];
  const ser: number[] = [], sPar: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const n = real.netns(i);
    let slowest = 0;
    for (const [k, net] of real.nets.entries()) {
      slowest = Math.max(
        slowest,
        (await real.directPod(net, i, `eth${k}`)).add,
      );
    }
    single.push(slowest);
    const add = ["add", `m${i}`, n, "--annotations", ann, ...real.flags];
    const del = ["del", `m${i}`, n, ...real.flags];
    par.push(await bed.time(a, add));
    await bed.time(a, del);
    ser.push(await bed.time(a, [...add, "--serial"]));
    await bed.time(a, del);
    const args = [`sm${i}`, n];
    sPar.push(
      await bed.request(real.socket, "add", {
        args,
        flags: { annotations: ann },
      }),
    );
    await bed.request(real.socket, "del", { args, flags: {} });
  }
  const m = {
    slowestSingleDirect: stats(single),
    parallel: stats(par),
    serial: stats(ser),
    serveParallel: stats(sPar),
  };
  const over = (s: Stats) => round(s.median / m.slowestSingleDirect.median);
  return {
    ...m,
    parallelOverSlowest: over(m.parallel),
    serialOverSlowest: over(m.serial),
    serveParallelOverSlowest: over(m.serveParallel),
  };
}

/** Figure 4 in one line. */
export function describeMultiNetwork(f: MultiNetwork): string {
  return `4. 3-network pod: slowest single network direct ${f.slowestSingleDirect.median} ms; cnishim parallel ${f.parallel.median} ms (x${f.parallelOverSlowest}), serial ${f.serial.median} ms (x${f.serialOverSlowest}); through serve parallel ${f.serveParallel.median} ms (x${f.serveParallelOverSlowest})`;
}
