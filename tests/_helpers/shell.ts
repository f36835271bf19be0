/**
 * Host commands and temp dirs for the tests: run a command and collect its
 * output, random names, temp dirs removed on dispose, a dir's files.
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
