/**
 * Debian's podman 4.3 as this machine runs it, for `deno task image` and
 * the tests: every state dir private under one dir (`--root`, `--runroot`,
 * `--tmpdir`, …, so parallel sessions never share one), runc (crun fails
 * on this machine's cgroups), vfs (no overlay mount outlives a run),
 * cgroupfs, no events journal, and a containers.conf lowering the default
 * rlimits (there is no CAP_SYS_RESOURCE to raise them). podman 4.3 also
 * creates two host paths whatever it is told; {@link Podman.cleanup}
 * removes those it created.
 *
 * @module
 */

/** What one podman run printed. */
export interface PodmanOutput {
  /** Exit status. */
  code: number;
  /** stdout. */
  stdout: string;
  /** stderr. */
  stderr: string;
}

// Created by podman 4.3 outside its --root/--runroot/--tmpdir (the CNI
// backend's run dir, containers/image's blob info cache), deepest first.
const HOST_PATHS = [
  "/run/containers/networks",
  "/run/containers",
  "/var/lib/containers/cache/blob-info-cache-v1.boltdb",
  "/var/lib/containers/cache",
  "/var/lib/containers",
];

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** podman with every state dir under `dir`. */
export class Podman {
  private constructor(
    readonly dir: string,
    readonly hooksDir: string | undefined,
    private readonly hadHostPaths: boolean[],
  ) {}

  /** Makes `dir` and its containers.conf; `hooksDir` for OCI hooks. */
  static async create(dir: string, hooksDir?: string): Promise<Podman> {
    const had = await Promise.all(HOST_PATHS.map(exists));
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/containers.conf`,
      '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n',
    );
    return new Podman(dir, hooksDir, had);
  }

  /** The global flags. */
  get globals(): string[] {
    const d = this.dir;
    return [
      "--root",
      `${d}/root`,
      "--runroot",
      `${d}/runroot`,
      "--tmpdir",
      `${d}/tmp`,
      "--volumepath",
      `${d}/volumes`,
      "--network-config-dir",
      `${d}/networks`,
      "--events-backend",
      "none",
      "--cgroup-manager",
      "cgroupfs",
      "--storage-driver",
      "vfs",
      "--runtime",
      "runc",
      ...(this.hooksDir ? ["--hooks-dir", this.hooksDir] : []),
    ];
  }

  /** Runs podman with `args`; never throws on its exit status. */
  async run(args: string[], stdin?: string): Promise<PodmanOutput> {
    const child = new Deno.Command("podman", {
      args: [...this.globals, ...args],
      env: { CONTAINERS_CONF: `${this.dir}/containers.conf` },
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    }
    const out = await child.output();
    const d = new TextDecoder();
    return {
      code: out.code,
      stdout: d.decode(out.stdout),
      stderr: d.decode(out.stderr),
    };
  }

  /** Runs podman; throws with its stderr unless it exits 0; stdout trimmed. */
  async must(args: string[]): Promise<string> {
    const out = await this.run(args);
    if (out.code !== 0) {
      throw new Error(
        `podman ${args.join(" ")} exited ${out.code}: ${out.stderr.trim()}`,
      );
    }
    return out.stdout.trim();
  }

  /** Removes `dir` (podman's state too) and the host paths podman made. */
  async cleanup(): Promise<void> {
    // vfs layers are plain dirs, but a container's mounts may remain.
    await this.run(["rm", "-a", "-f", "-t", "0"]);
    await this.run(["rmi", "-a", "-f"]);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    for (const [i, path] of HOST_PATHS.entries()) {
      if (!this.hadHostPaths[i]) {
        await Deno.remove(path, { recursive: true }).catch(() => {});
      }
    }
  }
}
