/**
 * Timing for the figures: a child process timed from spawn to exit, its
 * peak RSS, repeated samples and their median and p95.
 *
 * @module
 */

/** Median and p95 of some samples, in ms (or whatever was sampled). */
export interface Stats {
  /** The median. */
  median: number;
  /** The 95th percentile. */
  p95: number;
  /** How many samples. */
  n: number;
}

const ENC = new TextEncoder();
const DEC = new TextDecoder();

/** Rounds to two decimals, as every figure prints. */
export function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Median, p95 and count of `xs`. */
export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: round(q(0.5)), p95: round(q(0.95)), n: s.length };
}

/** Options of {@link timeCmd}. */
export interface TimeCmdOptions {
  /** Written to stdin, which is then closed. */
  stdin?: string;
  /** The child's environment (instead of this process's). */
  env?: Record<string, string>;
}

/**
 * Runs a command and times it from spawn to exit.
 *
 * @throws {Error} with its output when it exits non-zero
 */
export async function timeCmd(
  cmd: string,
  args: string[],
  opts: TimeCmdOptions = {},
): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(ENC.encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${DEC.decode(out.stdout)}${
        DEC.decode(out.stderr)
      }`,
    );
  }
  return { ms, stdout: DEC.decode(out.stdout) };
}

/** Peak RSS of a command in KB (`/usr/bin/time -f %M`), if measurable. */
export async function peakRss(
  cmd: string,
  args: string[],
): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", cmd, ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    return Number(DEC.decode(out.stderr).trim().split("\n").pop());
  } catch {
    return undefined;
  }
}

/** Runs `fn` once to warm caches, then `n` times; returns the `n` results. */
export async function sample(
  n: number,
  fn: () => Promise<number>,
): Promise<number[]> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return xs;
}

/** Times `fn` in this process, in ms. */
export async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Runs a host command.
 *
 * @throws {Error} with its stderr when it exits non-zero
 */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${DEC.decode(out.stderr)}`);
  }
  return DEC.decode(out.stdout);
}
