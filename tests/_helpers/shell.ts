/**
 * Host commands and temp dirs for the tests: run a command (with a stdin
 * or without) and collect its output, random names, temp dirs removed on
 * dispose, a dir's files.
 *
 * @module
 */
/** What a host command produced. */
export interface Output {
  /** Exit status. */
  code: number;
  /** Stdout text. */
  stdout: string;
  /** Stderr text. */
  stderr: string;
}

/**
 * Runs a host command and collects its output (never throws on exit
 * status); `env` is added to the test's environment.
 */
export async function sh(
  cmd: readonly string[],
  env?: Record<string, string>,
): Promise<Output> {
  const [bin, ...args] = cmd;
  const out = await new Deno.Command(bin!, {
    args,
    ...(env ? { env } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

/** Options of {@link spawnWithStdin}. */
export interface SpawnOptions {
  /** The command's arguments. */
  args?: readonly string[];
  /** The environment: added to the test's, or the whole of it with `clearEnv`. */
  env?: Record<string, string>;
  /** Start from an empty environment, as a runtime execs a plugin. */
  clearEnv?: boolean;
}

/**
 * Spawns `cmd`, writes `stdin` to it and closes it (no stdin at all when
 * `undefined`), and collects its output; never throws on exit status. A
 * child that exits without reading its stdin (a plugin failing on its
 * environment) is no error: its exit status and output tell.
 */
export async function spawnWithStdin(
  cmd: string,
  stdin: string | undefined,
  opts: SpawnOptions = {},
): Promise<Output> {
  const child = new Deno.Command(cmd, {
    args: [...(opts.args ?? [])],
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.clearEnv ? { clearEnv: true } : {}),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin))
      .then(() => writer.close()).catch(() => {});
  }
  const out = await child.output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

/** Runs a host command; throws with its output unless it exits 0. */
export async function mustSh(cmd: readonly string[]): Promise<string> {
  const out = await sh(cmd);
  if (out.code !== 0) {
    throw new Error(
      `${cmd.join(" ")} exited ${out.code}: ${out.stderr.trim()}${
        out.stdout.trim() ? `\n${out.stdout.trim()}` : ""
      }`,
    );
  }
  return out.stdout;
}

/** `n` random lower-case hex characters. */
export function randomHex(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(n / 2)));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, n);
}

/** A temp dir removed on dispose. */
export interface TempDir extends AsyncDisposable {
  /** Its path. */
  readonly path: string;
}

/** Makes a temp dir that disposing removes recursively. */
export async function createTempDir(prefix = "cnishim-e2e-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The files below `dir`, relative to it, sorted; none when it is missing. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}
