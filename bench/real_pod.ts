/**
 * Figure 3, a real pod (bridge + host-local, portmap, tuning): ADD and DEL
 * through cnishim and through serve, against the chain run directly.
 *
 * @module
 */
import { round, type Stats, stats } from "./_harness.ts";
import type { BenchBed } from "./_fixtures.ts";
import type { RealBed } from "./_real_bed.ts";

/** Figure 3. */
export interface RealPod {
  /** How many pods. */
  pods: number;
  /** The chain run directly, ADD. */
  directAdd: Stats;
  /** The chain run directly, DEL. */
  directDel: Stats;
  /** `cnishim add`. */
  cnishimAdd: Stats;
  /** `cnishim del`. */
  cnishimDel: Stats;
  /** An ADD request to serve. */
  serveAdd: Stats;
  /** A DEL request to serve. */
  serveDel: Stats;
  /** cnishim ADD over direct. */
  addRatio: number;
  /** cnishim DEL over direct. */
  delRatio: number;
  /** serve ADD over direct. */
  serveAddRatio: number;
  /** serve DEL over direct. */
  serveDelRatio: number;
}

/** Measures figure 3 with the last artifact. */
export async function measureRealPod(
  bed: BenchBed,
  real: RealBed,
): Promise<RealPod> {
  const a = bed.last;
  const dAdd: number[] = [], dDel: number[] = [];
  const cAdd: number[] = [], cDel: number[] = [];
  const sAdd: number[] = [], sDel: number[] = [];
  for (let i = 0; i < real.pods; i++) {
    const d = await real.directPod(real.nets[0]!, i, "eth0");
    dAdd.push(d.add);
    dDel.push(d.del);
    const n = real.netns(i);
    cAdd.push(await bed.time(a, ["add", `pod${i}`, n, ...real.flags]));
    cDel.push(await bed.time(a, ["del", `pod${i}`, n, ...real.flags]));
    const args = [`spod${i}`, n];
    sAdd.push(await bed.request(real.socket, "add", { args, flags: {} }));
    sDel.push(await bed.request(real.socket, "del", { args, flags: {} }));
  }
  const f = {
    pods: real.pods,
    directAdd: stats(dAdd),
    directDel: stats(dDel),
    cnishimAdd: stats(cAdd),
    cnishimDel: stats(cDel),
    serveAdd: stats(sAdd),
    serveDel: stats(sDel),
  };
  return {
    ...f,
    addRatio: round(f.cnishimAdd.median / f.directAdd.median),
    delRatio: round(f.cnishimDel.median / f.directDel.median),
    serveAddRatio: round(f.serveAdd.median / f.directAdd.median),
    serveDelRatio: round(f.serveDel.median / f.directDel.median),
  };
}

/** Figure 3 in one line. */
export function describeRealPod(f: RealPod): string {
  return `3. real pod (bridge+host-local, portmap, tuning; ${f.pods} pods): ADD direct ${f.directAdd.median} ms, cnishim ${f.cnishimAdd.median} ms (x${f.addRatio}); DEL direct ${f.directDel.median} ms, cnishim ${f.cnishimDel.median} ms (x${f.delRatio}); through serve ADD ${f.serveAdd.median} ms (x${f.serveAddRatio}), DEL ${f.serveDel.median} ms (x${f.serveDelRatio})`;
}
