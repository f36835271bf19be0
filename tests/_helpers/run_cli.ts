/**
 * Runs the real command line as a child process, the way a container
 * runtime does: `deno run -A src/main.ts …` by default, or the executable
 * named by `CNISHIM_ARTIFACT` (a bundled `dist/cnishim.js`, an installed
 * `/usr/bin/cnishim`) so that the same suites run against a packaged build.
 *
 * The child starts from an empty environment: `PATH`, `DENO_DIR` when set
 * (deno's own cache, not read by the shim) and what the caller passes.
 *
 * @module
 */
import { spawnWithStdin } from "./shell.ts";

/** The repository root. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname
  .replace(/\/$/, "");

/** The entry point run when no artifact is given. */
export const MAIN_TS = `${REPO_ROOT}/src/main.ts`;

/** The artifact under test, when `CNISHIM_ARTIFACT` names one. */
export const ARTIFACT: string | undefined = Deno.env.get("CNISHIM_ARTIFACT") ||
  undefined;

const DEFAULT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The argv that starts the CLI: `[executable, ...leading args]`, to which
 * the command line is appended (also what an OCI hook or a script runs).
 */
export function cliCommand(): [string, ...string[]] {
  return ARTIFACT ? [ARTIFACT] : [Deno.execPath(), "run", "-A", MAIN_TS];
}

/** The environment a CLI child starts from (before the caller's additions). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? DEFAULT_PATH,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

/** What one CLI run produced. */
export interface CliRun {
  /** The exit status. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
  /** The stdout decoded as JSON; throws with the whole output when it is not. */
  json<T = Record<string, unknown>>(): T;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  /** Added to the child's environment. */
  env?: Record<string, string>;
}

/** Runs the CLI with `args` and collects its exit status and output. */
export async function runCli(
  args: string[],
  opts: RunCliOptions = {},
): Promise<CliRun> {
  const [cmd, ...lead] = cliCommand();
  const out = await spawnWithStdin(cmd, opts.stdin, {
    args: [...lead, ...args],
    clearEnv: true,
    env: { ...baseEnv(), ...opts.env },
  });
  const { stdout, stderr } = out;
  return {
    code: out.code,
    stdout,
    stderr,
    json<T>(): T {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(
          `cnishim ${
            args.join(" ")
          } printed no JSON (exit ${out.code})\nstdout: ${stdout}\nstderr: ${stderr}`,
        );
      }
    },
  };
}

/** What any child run printed, for assertion messages. */
export type RunOutput = Pick<CliRun, "code" | "stdout" | "stderr">;

/** The explanation of a run for an assertion message. */
export function explain(run: RunOutput): string {
  return `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

/** Fails with the whole output unless the run exited with `code`. */
export function expectExit(
  run: RunOutput,
  code: number,
  what = "cnishim",
): void {
  if (run.code !== code) {
    throw new Error(
      `${what}: expected exit ${code}, got ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
}
