/**
 * A baseline for figure 8: another git ref of this repository
 * (`BENCH_BASELINE`, e.g. `main`), extracted into the temp dir, its CLI
 * bundled and its `serve` started on the real bed's networks, so that a
 * change's before and after are timed side by side in one interleaved run
 * (on a shared machine, two runs differ more than most changes do).
 *
 * @module
 */
import { join } from "node:path";
import { sh } from "./_harness.ts";
import {
  type Artifact,
  type BenchBed,
  bundleArgv,
  DENO,
  PLUGINS,
  ROOT,
} from "./_fixtures.ts";
import type { RealBed } from "./_real_bed.ts";

/** The baseline's CLI and server. */
export interface Baseline {
  /** The ref as given, with its commit: `main (9d8bd63)`. */
  label: string;
  /** Its bundle. */
  bundle: Artifact;
  /** Its CLI flags (the real bed's networks, a cache dir of its own). */
  flags: string[];
  /** Its server's socket. */
  socket: string;
}

/**
 * Extracts `ref`, bundles it and starts its server.
 *
 * @throws {Error} when the ref does not exist or does not build
 */
export async function prepareBaseline(
  bed: BenchBed,
  real: RealBed,
  ref: string,
): Promise<Baseline> {
  const commit = (await sh("git", "-C", ROOT, "rev-parse", "--short", ref))
    .trim();
  const dir = join(bed.tmp, "baseline");
  const tar = join(bed.tmp, "baseline.tar");
  await Deno.mkdir(dir);
  await sh("git", "-C", ROOT, "archive", "--output", tar, commit);
  await sh("tar", "-xf", tar, "-C", dir);
  const out = join(bed.tmp, "baseline.js");
  // Bundled as that ref ships it: its own flags, the plain ones before it
  // had any.
  const shipped = await import(join(dir, "scripts/_bundle.ts"))
    .then((m) => m.BUNDLE_FLAGS as string[] | undefined, () => undefined);
  const built = await new Deno.Command(DENO, {
    args: [
      "bundle",
      ...shipped ?? ["--platform", "deno"],
      "-o",
      out,
      "src/main.ts",
    ],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(
      `baseline ${ref}: deno bundle failed: ${
        new TextDecoder().decode(built.stderr)
      }`,
    );
  }
  const label = `${ref} (${commit})`;
  const socket = join(bed.tmp, "run", "baseline.sock");
  await bed.startServer(
    socket,
    bed.shimFlags(PLUGINS, real.confDir, join(bed.tmp, "cache-base-serve")),
    join(dir, "src/main.ts"),
  );
  return {
    label,
    bundle: { name: `bundle @ ${label}`, argv: bundleArgv(out) },
    flags: bed.shimFlags(PLUGINS, real.confDir, join(bed.tmp, "cache-base")),
    socket,
  };
}
