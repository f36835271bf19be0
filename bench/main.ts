// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task bench`: what a pod pays for cnishim, always next to a floor
 * measured in the same run (the machine is noisy; compare ratios).
 *
 * 1. start-up: `version` and `add` (trivial plugin) vs bare `deno run`
 * 2. engine overhead: 3 trivial plugins through `add`+`del` vs run directly
 * 3. real pod: bridge+host-local+portmap+tuning, ADD and DEL, vs direct (root)
 * 4. multi-network pod: 3 networks, parallel vs --serial vs slowest single (root)
 * 5. config dir scale: 200 files, time to the default network, cold and changed
 * 6. concurrency: 50 pods by 50 concurrent invocations, throughput and errors
 * 7. serve: a request through the socket over the plugins' own time, with
 *    metrics and without (`--no-metrics`); the real pod and the 3-network
 *    pod through serve (root)
 * 8. side by side with Go libcni (root): one real pod per round through
 *    every side in turn — the plugins directly, Go libcni per process, the
 *    Deno floor (the least a Deno program per call does), the CLI, the
 *    --socket client, serve over raw HTTP, the hook through curl — and a
 *    3-network pod through serve vs its chains run concurrently
 * 9. node density: one pod with the cache of 1,000 other pods vs an empty
 *    cache, through the CLI and serve
 * 10. the cnishim plugin (issue 20, root): the real chain driven by Go
 *    libcni as the runtime's own conflist vs through `"type": "cnishim"`,
 *    thin and thick (goals: ≤ 1.20× and ≤ 1.05×), and what one exec of the
 *    forwarder costs with nothing to run
 *
 * Every artifact (source, bundle — built into a temp dir when dist/ has
 * none — and a compiled binary when dist/ has one) is timed both running
 * the operation itself and as the `--socket` client of a warm server.
 * The goals of issue 6 (goals.ts) are checked against floors of the same
 * run, those of issue 15 (peer_goals.ts) against Go libcni in figure 8. Each figure is one module returning a typed record; `_harness.ts`
 * times, `_fixtures.ts` sets up.
 *
 * Writes bench/results.json. `BENCH_RUNS` (default 30) sets repetitions;
 * `BENCH_BASELINE=<git ref>` adds that ref's CLI and serve to figure 8.
 * `--only front-end` runs figure 10 alone (root) and writes
 * bench/results.front-end.json instead.
 *
 * @module
 */
import { join } from "node:path";
import { BenchBed, ROOT } from "./_fixtures.ts";
import { measureStartup, type Startup, startupTable } from "./startup.ts";
import {
  describeEngineOverhead,
  type EngineOverhead,
  measureEngineOverhead,
} from "./engine_overhead.ts";
import { describeServe, measureServe, type ServeFigure } from "./serve.ts";
import { createRealBed } from "./_real_bed.ts";
import { describeRealPod, measureRealPod, type RealPod } from "./real_pod.ts";
import {
  describeMultiNetwork,
  measureMultiNetwork,
  type MultiNetwork,
} from "./multi_network.ts";
import {
  type ConfigScale,
  describeConfigScale,
  measureConfigScale,
} from "./config_scale.ts";
import {
  type Concurrency,
  describeConcurrency,
  measureConcurrency,
} from "./concurrency.ts";
import { checkGoals, type Goal } from "./goals.ts";
import { buildGoPeer } from "./_go_peer.ts";
import { prepareBaseline } from "./_baseline.ts";
import { installParts } from "../scripts/_real_parts.ts";
import { BENCH_PARTS } from "../scripts/real_parts.ts";
import {
  describeSideBySide,
  measureSideBySide,
  type SideBySide,
} from "./side_by_side.ts";
import { checkPeerGoals } from "./peer_goals.ts";
import {
  describeFrontEnd,
  type FrontEnd,
  measureFrontEnd,
} from "./front_end.ts";
import {
  type CacheScale,
  describeCacheScale,
  measureCacheScale,
} from "./cache_scale.ts";

/** bench/results.json. */
interface Results {
  date: string;
  runs: number;
  startup?: Record<string, unknown>;
  engineOverhead?: EngineOverhead;
  serve?: ServeFigure;
  realPod?: RealPod;
  multiNetwork?: MultiNetwork;
  configScale?: ConfigScale;
  concurrency?: Concurrency;
  cacheScale?: CacheScale;
  sideBySide?: SideBySide;
  frontEnd?: FrontEnd;
  goals?: Record<string, Goal>;
  peerGoals?: Record<string, Goal>;
}

const runs = Number(Deno.env.get("BENCH_RUNS") ?? 30);
const results: Results = { date: new Date().toISOString(), runs };
const only = Deno.args.includes("--only")
  ? Deno.args[Deno.args.indexOf("--only") + 1]
  : undefined;
if (only !== undefined) {
  if (only !== "front-end") {
    console.error(`bench: --only takes front-end, not ${only}`);
    Deno.exit(2);
  }
  if (Deno.uid() !== 0) {
    console.error("bench: figure 10 drives real pods: run it as root");
    Deno.exit(1);
  }
  await onlyFrontEnd();
  Deno.exit(0);
}
try {
  await using bed = await BenchBed.create(runs);
  const floors = await bed.floors(Math.max(runs, 20));

  // A warm server on the trivial chain, for the --socket rows and 6, 7.
  const socket = join(bed.tmp, "run", "cnishim.sock");
  await bed.startServer(socket, bed.trivialFlags("cache-serve"));
  // Its twin without metrics, for what metrics cost a request (figure 7).
  const socketNoMetrics = join(bed.tmp, "run", "no-metrics.sock");
  await bed.startServer(socketNoMetrics, [
    ...bed.trivialFlags("cache-serve-no-metrics"),
    "--no-metrics",
  ]);

  const startup: Startup = await measureStartup(bed, floors, socket);
  results.startup = { "bare deno run": startup.bare, ...startup.artifacts };
  console.log(
    `\n1. start-up (ms; the 3 trivial plugins' own ADD time is ${floors.add.median} ms)`,
  );
  console.table(startupTable(startup));

  results.engineOverhead = await measureEngineOverhead(
    bed,
    floors,
    startup.bare.median,
  );
  console.log(`\n${describeEngineOverhead(results.engineOverhead)}`);

  const serve = await measureServe(bed, floors, socket, socketNoMetrics);
  results.serve = serve;
  console.log(`\n${describeServe(serve)}`);

  if (Deno.uid() === 0) {
    // Quiet when nothing is missing; names what it installs otherwise.
    const { missing } = await installParts(BENCH_PARTS, "bench");
    if (missing.length) {
      console.log(`\nbench: still missing ${missing.join(", ")}`);
    }
    const real = await createRealBed(bed);
    results.realPod = await measureRealPod(bed, real);
    console.log(`\n${describeRealPod(results.realPod)}`);
    results.multiNetwork = await measureMultiNetwork(bed, real);
    console.log(`\n${describeMultiNetwork(results.multiNetwork)}`);
    const peer = await buildGoPeer(bed.tmp);
    if ("skipped" in peer) {
      console.log(`\nGo libcni peer skipped: ${peer.skipped}`);
    }
    const ref = Deno.env.get("BENCH_BASELINE");
    const baseline = ref ? await prepareBaseline(bed, real, ref) : undefined;
    results.sideBySide = await measureSideBySide(bed, real, peer, baseline);
    console.log(`\n${describeSideBySide(results.sideBySide)}`);
    results.frontEnd = await measureFrontEnd(bed, real, peer);
    console.log(`\n${describeFrontEnd(results.frontEnd)}`);
  } else {
    console.log("\n3./4./8./10. skipped: real pods need root");
  }

  results.configScale = await measureConfigScale(bed);
  console.log(`\n${describeConfigScale(results.configScale)}`);

  results.concurrency = await measureConcurrency(bed, socket);
  console.log(`\n${describeConcurrency(results.concurrency)}`);

  results.cacheScale = await measureCacheScale(bed);
  console.log(`\n${describeCacheScale(results.cacheScale)}`);

  results.goals = checkGoals({
    startup,
    shipped: bed.shipped.name,
    serve,
    multiNetwork: results.multiNetwork,
  });
  console.log("\ngoals of issue 6");
  console.table(results.goals);

  results.peerGoals = checkPeerGoals({
    sideBySide: results.sideBySide,
    shipped: bed.shipped.name,
    builtArtifacts: bed.artifacts.map((a) => a.name).filter((n) =>
      n !== "source"
    ),
    socketClientOverBareMs: startup.artifacts[bed.shipped.name]
      ?.socketClientOverBareMs,
  });
  console.log("\ngoals of issue 15 (ratios to Go libcni, per pod, figure 8)");
  console.table(results.peerGoals);
  if (results.frontEnd) {
    console.log(
      "\ngoals of issue 20 (the cnishim plugin over the runtime's own conflist, figure 10)",
    );
    console.table(results.frontEnd.goals);
  }
} finally {
  await Deno.mkdir(join(ROOT, "bench"), { recursive: true });
  await Deno.writeTextFile(
    join(ROOT, "bench/results.json"),
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log("\nwrote bench/results.json");
}

// Figure 10 alone: what a change to the front end or its forwarder costs,
// without the half hour of the other figures.
async function onlyFrontEnd(): Promise<void> {
  const { missing } = await installParts(BENCH_PARTS, "bench");
  if (missing.length) console.log(`bench: still missing ${missing.join(", ")}`);
  await using bed = await BenchBed.create(Math.min(runs, 5));
  const real = await createRealBed(bed);
  const peer = await buildGoPeer(bed.tmp);
  if ("skipped" in peer) console.log(`Go libcni peer skipped: ${peer.skipped}`);
  results.frontEnd = await measureFrontEnd(bed, real, peer);
  console.log(`\n${describeFrontEnd(results.frontEnd)}`);
  await Deno.writeTextFile(
    join(ROOT, "bench/results.front-end.json"),
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log("\nwrote bench/results.front-end.json");
}
