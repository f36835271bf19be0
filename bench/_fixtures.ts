// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * What every figure runs against: a temp dir with an empty shim config,
 * three trivial plugins and a conf dir chaining them, the artifacts to
 * time (source, bundle, compiled binaries), warm servers, and cleanups run
 * when the bed is disposed.
 *
 * @module
 */
import { join } from "node:path";
import { sendRequest } from "../src/serve/client.ts";
import type { ServeRequest } from "../src/serve/protocol.ts";
import { BUNDLE_FLAGS, RUN_FLAGS } from "../scripts/_bundle.ts";
import { sample, type Stats, stats, timeCmd } from "./_harness.ts";

/** The repository root. */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** This deno. */
export const DENO: string = Deno.execPath();
/** The real plugins. */
export const PLUGINS = "/usr/lib/cni";
/** The trivial chain: three plugins printing a fixed result. */
export const TRIVIAL_CHAIN = ["t1", "t2", "t3"] as const;

/** A way of running cnishim: a name and the argv before the command line. */
export interface Artifact {
  /** `source`, `bundle` or `binary <file>`. */
  name: string;
  /** The executable, then its leading arguments. */
  argv: [string, ...string[]];
}

/** The trivial plugins' own ADD and DEL time: the floor of figures 1, 2, 7. */
export interface Floors {
  /** ADD of the three, run directly. */
  add: Stats;
  /** DEL of the three, run directly. */
  del: Stats;
  /** ADD then DEL. */
  both: Stats;
}

/** How a bundle built into the temp dir runs: as the shipped bundle runs (its #! line's flags). */
export function bundleArgv(bundle: string): Artifact["argv"] {
  return [DENO, ...RUN_FLAGS, bundle];
}

/** The bed of one bench run. */
export class BenchBed implements AsyncDisposable {
  /** The temp dir. */
  readonly tmp: string;
  /** An empty shim config, so a node's config cannot change the figures. */
  readonly noConfig: string;
  /** The trivial plugins. */
  readonly trivialBin: string;
  /** A conf dir of one network chaining the trivial plugins. */
  readonly trivialConf: string;
  /** Repetitions per figure (`BENCH_RUNS`). */
  readonly runs: number;
  /** What is timed: source first, the shipped artifact last. */
  readonly artifacts: Artifact[] = [];
  readonly #cleanups: (() => Promise<unknown>)[] = [];

  private constructor(tmp: string, runs: number) {
    this.tmp = tmp;
    this.runs = runs;
    this.noConfig = join(tmp, "config.json");
    this.trivialBin = join(tmp, "bin");
    this.trivialConf = join(tmp, "conf-trivial");
  }

  /** Makes the bed and finds the artifacts. */
  static async create(runs: number): Promise<BenchBed> {
    const bed = new BenchBed(
      await Deno.makeTempDir({ prefix: "cnishim-bench-" }),
      runs,
    );
    await Deno.writeTextFile(bed.noConfig, "{}");
    await Deno.mkdir(bed.trivialBin, { recursive: true });
    for (const name of [...TRIVIAL_CHAIN, "loopback"]) {
      await Deno.writeTextFile(
        join(bed.trivialBin, name),
        '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && printf \'{"cniVersion":"1.0.0"}\'\nexit 0\n',
      );
      await Deno.chmod(join(bed.trivialBin, name), 0o755);
    }
    await Deno.mkdir(bed.trivialConf);
    await Deno.writeTextFile(
      join(bed.trivialConf, "10-t.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "t",
        plugins: TRIVIAL_CHAIN.map((type) => ({ type })),
      }),
    );
    await Deno.writeTextFile(join(bed.tmp, "empty.ts"), "");
    await bed.#findArtifacts();
    // Deno stores a module's V8 code cache only from a run that lives long
    // enough to write it: a fresh bundle timed by `version` (which exits
    // first) would compile from scratch every run, about 5 ms more than on
    // a node where a pod, or `serve` from the same file, has run. One pod
    // through each artifact first, as on such a node.
    const warm = bed.trivialFlags("cache-warm");
    for (const a of bed.artifacts) {
      await bed.time(a, ["add", "warm", "/proc/self/ns/net", ...warm]);
      await bed.time(a, ["del", "warm", ...warm]);
    }
    return bed;
  }

  /** The CLI flags of a bench run: its dirs, no loopback, no config file. */
  shimFlags(binDir: string, confDir: string, cacheDir: string): string[] {
    return [
      "--cni-bin-dir",
      binDir,
      "--cni-conf-dir",
      confDir,
      "--cni-cache-dir",
      cacheDir,
      "--no-loopback",
      "--config",
      this.noConfig,
    ];
  }

  /** The trivial chain's flags with its own cache dir. */
  trivialFlags(cache: string): string[] {
    return this.shimFlags(
      this.trivialBin,
      this.trivialConf,
      join(this.tmp, cache),
    );
  }

  /** The artifact figures 2 to 7 time: the last one found. */
  get last(): Artifact {
    return this.artifacts.at(-1)!;
  }

  /** The artifact the goals judge: the first that is not the source. */
  get shipped(): Artifact {
    return this.artifacts.find((a) => a.name !== "source") ??
      this.artifacts[0]!;
  }

  /** Times one command line of an artifact, in ms. */
  async time(artifact: Artifact, args: string[]): Promise<number> {
    const [cmd, ...lead] = artifact.argv;
    return (await timeCmd(cmd, [...lead, ...args])).ms;
  }

  /** A bare `deno run` of an empty file: the start-up floor. */
  async bareDeno(): Promise<number> {
    return (await timeCmd(DENO, ["run", join(this.tmp, "empty.ts")])).ms;
  }

  /** The trivial plugins run directly, ADD then DEL, `n` times. */
  async floors(n: number): Promise<Floors> {
    const direct = async (plugin: string, command: "ADD" | "DEL") =>
      (await timeCmd(join(this.trivialBin, plugin), [], {
        stdin: JSON.stringify({ cniVersion: "1.0.0", name: "t", type: plugin }),
        env: { CNI_COMMAND: command },
      })).ms;
    const adds: number[] = [], dels: number[] = [];
    await sample(n, async () => {
      let add = 0, del = 0;
      for (const p of TRIVIAL_CHAIN) add += await direct(p, "ADD");
      for (const p of [...TRIVIAL_CHAIN].reverse()) {
        del += await direct(p, "DEL");
      }
      adds.push(add);
      dels.push(del);
      return add + del;
    });
    // The warm-up run is the first of each list.
    return {
      add: stats(adds.slice(1)),
      del: stats(dels.slice(1)),
      both: stats(adds.slice(1).map((x, i) => x + dels[i + 1]!)),
    };
  }

  /**
   * Starts `cnishim serve` from source (the artifact does not matter to a
   * warm server; `main` is another tree's, for a baseline); it gets SIGTERM
   * when the bed is disposed.
   */
  async startServer(
    socket: string,
    flags: string[],
    main: string = join(ROOT, "src/main.ts"),
  ): Promise<void> {
    const child = new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        main,
        "serve",
        "--socket",
        socket,
        ...flags,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    this.defer(async () => {
      child.kill("SIGTERM");
      await child.status;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        (await Deno.connect({ transport: "unix", path: socket })).close();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`no server on ${socket}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /**
   * Sends one request to a server from this process; returns its ms.
   *
   * @throws {Error} when the operation does not exit 0
   */
  async request(
    socket: string,
    op: string,
    req: ServeRequest,
  ): Promise<number> {
    const t0 = performance.now();
    const reply = await sendRequest(socket, op, req);
    if (reply.exitCode !== 0) {
      throw new Error(`serve ${op} exited ${reply.exitCode}: ${reply.stdout}`);
    }
    return performance.now() - t0;
  }

  /** Runs `fn` when the bed is disposed (last deferred, first run). */
  defer(fn: () => Promise<unknown>): void {
    this.#cleanups.push(fn);
  }

  /** Runs the cleanups and removes the temp dir. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const c of this.#cleanups.reverse()) await c().catch(() => {});
    await Deno.remove(this.tmp, { recursive: true }).catch(() => {});
  }

  // Source always; the bundle from dist/, else built into the temp dir;
  // compiled binaries found in dist/.
  async #findArtifacts(): Promise<void> {
    this.artifacts.push({
      name: "source",
      argv: [DENO, "run", "-A", join(ROOT, "src/main.ts")],
    });
    try {
      await Deno.stat(join(ROOT, "dist/cnishim.js"));
      this.artifacts.push({
        name: "bundle",
        argv: [join(ROOT, "dist/cnishim.js")],
      });
    } catch {
      const out = join(this.tmp, "cnishim.js");
      const built = await new Deno.Command(DENO, {
        args: ["bundle", ...BUNDLE_FLAGS, "-o", out, "src/main.ts"],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      if (built.success) {
        this.artifacts.push({ name: "bundle", argv: bundleArgv(out) });
      } else {
        console.log(
          `bundle skipped: deno bundle failed: ${
            new TextDecoder().decode(built.stderr)
          }`,
        );
      }
    }
    try {
      for await (const e of Deno.readDir(join(ROOT, "dist"))) {
        if (e.name.startsWith("cnishim-") && !e.name.endsWith(".deb")) {
          this.artifacts.push({
            name: `binary ${e.name}`,
            argv: [join(ROOT, "dist", e.name)],
          });
        }
      }
    } catch { /* no dist yet */ }
  }
}
