/**
 * Fake CNI plugins for protocol tests: copies of
 * `testdata/plugins/fake_plugin.sh` under the given type names in a fresh
 * bin dir, with a cache dir beside it.
 *
 * @module
 */
import { join } from "node:path";
import type { JsonObject } from "../../src/spec/types.ts";

const SCRIPT = new URL("../testdata/plugins/fake_plugin.sh", import.meta.url);

/** One recorded plugin call. */
export interface FakeCall {
  /** Call number, from 1. */
  seq: number;
  /** The plugin type (its file name). */
  type: string;
  /** `CNI_COMMAND`. */
  command: string;
  /** The decoded stdin. */
  stdin: JsonObject;
  /** The environment as the plugin saw it. */
  env: Record<string, string>;
}

/** What a fake plugin answers to one verb. */
export interface FakeAnswer {
  /** Printed on stdout (objects are JSON-encoded). */
  stdout?: string | JsonObject;
  /** Printed on stderr. */
  stderr?: string;
  /** Exit status. */
  exit?: number;
  /** Seconds to sleep first (in a child process, to test group kills). */
  sleep?: number;
}

/** A temp dir with fake plugins, a cache dir, and the calls they recorded. */
export class FakePlugins implements AsyncDisposable {
  /** The temp dir holding everything. */
  readonly root: string;
  /** The bin dir with the fake plugins. */
  readonly binDir: string;
  /** A cache dir for the engine. */
  readonly cacheDir: string;

  private constructor(root: string) {
    this.root = root;
    this.binDir = join(root, "bin");
    this.cacheDir = join(root, "cache");
  }

  /** Makes a bin dir with one fake plugin per type. */
  static async create(types: readonly string[]): Promise<FakePlugins> {
    const fake = new FakePlugins(
      await Deno.makeTempDir({ prefix: "cnishim-fake-" }),
    );
    await Deno.mkdir(join(fake.binDir, "answer"), { recursive: true });
    for (const type of types) await fake.add(type);
    return fake;
  }

  /**
   * Writes network config files (file name → content, as JSON) into the
   * conf dir `<root>/net.d`, made when missing, and returns that dir.
   */
  async writeConfDir(files: Record<string, unknown>): Promise<string> {
    const dir = join(this.root, "net.d");
    await Deno.mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), JSON.stringify(content));
    }
    return dir;
  }

  /** Adds one more fake plugin. */
  async add(type: string): Promise<void> {
    const path = join(this.binDir, type);
    await Deno.copyFile(SCRIPT, path);
    await Deno.chmod(path, 0o755);
  }

  /** Tells plugin `type` how to answer `command`. */
  async answer(
    type: string,
    command: string,
    answer: FakeAnswer,
  ): Promise<void> {
    const base = join(this.binDir, "answer", `${type}.${command}`);
    for (const ext of ["stdout", "stderr", "exit", "sleep"]) {
      await Deno.remove(`${base}.${ext}`).catch(() => {});
    }
    if (answer.stdout !== undefined) {
      const text = typeof answer.stdout === "string"
        ? answer.stdout
        : JSON.stringify(answer.stdout);
      await Deno.writeTextFile(`${base}.stdout`, text);
    }
    if (answer.stderr !== undefined) {
      await Deno.writeTextFile(`${base}.stderr`, answer.stderr);
    }
    if (answer.exit !== undefined) {
      await Deno.writeTextFile(`${base}.exit`, String(answer.exit));
    }
    if (answer.sleep !== undefined) {
      await Deno.writeTextFile(`${base}.sleep`, String(answer.sleep));
    }
  }

  /**
   * The CLI flags that point cnishim at these plugins and this cache, with
   * `confDir` and the shim config file `config`.
   */
  cliFlags(confDir: string, config: string): string[] {
    return [
      "--cni-bin-dir",
      this.binDir,
      "--cni-conf-dir",
      confDir,
      "--cni-cache-dir",
      this.cacheDir,
      "--config",
      config,
    ];
  }

  /**
   * Every call so far, in order. A call still being recorded (the plugin
   * logs it before it writes what it received) ends the list: it shows up
   * once it is complete.
   */
  async calls(): Promise<FakeCall[]> {
    const dir = join(this.binDir, "calls");
    let log: string;
    try {
      log = await Deno.readTextFile(join(dir, "log"));
    } catch {
      return [];
    }
    const calls: FakeCall[] = [];
    for (const line of log.trim().split("\n").filter(Boolean)) {
      const [seq, type, command] = line.split(" ") as [string, string, string];
      let stdin: unknown, envText: string;
      try {
        const text = await Deno.readTextFile(join(dir, `${seq}.stdin`));
        stdin = text.trim() ? JSON.parse(text) : {};
        envText = await Deno.readTextFile(join(dir, `${seq}.env`));
      } catch {
        break; // not (completely) written yet
      }
      const env: Record<string, string> = {};
      for (const l of envText.split("\n").filter(Boolean)) {
        const i = l.indexOf("=");
        env[l.slice(0, i)] = l.slice(i + 1);
      }
      calls.push({
        seq: Number(seq),
        type,
        command,
        stdin: stdin as FakeCall["stdin"],
        env,
      });
    }
    return calls;
  }

  /** Forgets the calls recorded so far. */
  async clearCalls(): Promise<void> {
    await Deno.remove(join(this.binDir, "calls"), { recursive: true }).catch(
      () => {},
    );
  }

  /** Removes everything. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}
