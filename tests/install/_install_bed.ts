/**
 * A node as `cnishim install` sees it from its container, in temp dirs:
 * the payload dir (what the image stages), the host bin dir and the host
 * conf dir; and the install command run as the CLI under test.
 *
 * @module
 */
import { join } from "node:path";
import {
  baseEnv,
  cliCommand,
  type CliRun,
  runCli,
} from "../_helpers/run_cli.ts";

/** One payload file: its bytes and mode, or a path the image already has. */
export interface BedFile {
  /** Its name. */
  name: string;
  /** Its bytes (staged in the payload dir). */
  data?: Uint8Array;
  /** Or where it is already. */
  from?: string;
  /** Its mode. @default {0o755} */
  mode?: number;
}

/** The bed. */
export class InstallBed implements AsyncDisposable {
  private constructor(
    readonly root: string,
    readonly payload: string,
    readonly bin: string,
    readonly conf: string,
  ) {}

  /** Makes the dirs; the host conf dir exists unless `noConfDir`. */
  static async create(noConfDir = false): Promise<InstallBed> {
    const root = await Deno.makeTempDir({ prefix: "cnishim-i23-" });
    const bed = new InstallBed(
      root,
      join(root, "payload"),
      join(root, "host/opt/cni/bin"),
      join(root, "host/etc/cni/net.d"),
    );
    await Deno.mkdir(bed.payload, { recursive: true });
    await Deno.mkdir(bed.bin, { recursive: true });
    if (!noConfDir) await Deno.mkdir(bed.conf, { recursive: true });
    return bed;
  }

  /** Stages the payload (`files` in order) built for `nodeBinDir`. */
  async stage(files: BedFile[], nodeBinDir = "/opt/cni/bin"): Promise<void> {
    for (const f of files) {
      if (f.data) {
        await Deno.writeFile(join(this.payload, f.name), f.data);
      }
    }
    await Deno.writeTextFile(
      join(this.payload, "payload.json"),
      JSON.stringify({
        nodeBinDir,
        files: files.map((f) => ({
          name: f.name,
          mode: f.mode ?? 0o755,
          ...(f.from ? { from: f.from } : {}),
        })),
      }),
    );
  }

  /** Writes a primary network `file` in the host conf dir. */
  async primary(
    file = "10-flannel.conflist",
    cniVersion = "1.0.0",
    name = "flannel",
  ): Promise<string> {
    const path = join(this.conf, file);
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        cniVersion,
        name,
        plugins: [{ type: "bridge", bridge: "cni0" }],
      }),
    );
    return path;
  }

  /** The flags pointing install and uninstall at the bed. */
  get flags(): string[] {
    return [
      "--payload-dir",
      this.payload,
      "--host-bin-dir",
      this.bin,
      "--host-conf-dir",
      this.conf,
    ];
  }

  /** Runs `cnishim <args> <bed flags>`. */
  run(args: string[]): Promise<CliRun> {
    return runCli([...args, ...this.flags]);
  }

  /** Starts `cnishim <args> <bed flags>`, its output piped. */
  spawn(args: string[]): Deno.ChildProcess {
    const [cmd, ...lead] = cliCommand();
    return new Deno.Command(cmd, {
      args: [...lead, ...args, ...this.flags],
      clearEnv: true,
      env: baseEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** The conflist's path. */
  get conflist(): string {
    return join(this.conf, "00-cnishim.conflist");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** The names in `dir`, sorted. */
export async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

/** Reads a child's stream line by line into `lines` until it ends. */
export async function collect(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
  }
  if (rest) lines.push(rest);
}
