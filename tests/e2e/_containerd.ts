/**
 * Debian's containerd 1.6 for the CRI end-to-end tests, started by the
 * test itself: a private config (version 2, the CRI plugin with the test's
 * CNI `bin_dir`/`conf_dir`, a sandbox image the test builds, runc,
 * `overlayfs` or else `native`), private `--root`, `--state` and
 * `--address`, all under one temp dir. `AsyncDisposable`: disposing
 * removes the sandboxes still there, stops containerd by pid and removes
 * what it left outside that dir — mounts, the shim sockets 1.6 puts in
 * `/run/containerd/s` whatever `--state` says, runc's state and cgroups,
 * its libcni cache entries in `/var/lib/cni/results` — even after a failed
 * assertion.
 *
 * Measured on this machine (see issue 20): every sandbox asks for
 * oom_score_adj -998, which needs CAP_SYS_RESOURCE this machine lacks, so
 * the CRI config sets `restrict_oom_score_adj`; the netns mounts go under
 * the private state dir (`netns_mounts_under_state_dir`) and runc's state
 * under it too (the runc runtime's `Root`); each sandbox's cgroups under a
 * cgroup parent of the test's own (`/sys/fs/cgroup/<ctrl>/<parent>/<id>`).
 *
 * @module
 */
import { CriClient, type PodSandboxConfig } from "./_containerd_cri.ts";
import { listFiles, mustSh, randomHex, sh } from "../_helpers/shell.ts";
import { killLeftovers } from "../_helpers/processes.ts";
import { waitFor } from "../_helpers/wait_for.ts";

/** The CRI plugin's containerd namespace. */
export const K8S_NAMESPACE = "k8s.io";

/** containerd's libcni cache (go-cni's, not movable in 1.6). */
export const CONTAINERD_CNI_CACHE = "/var/lib/cni/results";

/** Where containerd 1.6 puts the shim sockets, whatever `--state` says. */
const SHIM_SOCKETS = "/run/containerd/s";
// Made by the first containerd on a host; removed at the end only when
// absent before (and then only when empty).
const HOST_DIRS = [SHIM_SOCKETS, "/run/containerd"];
const hadHostDirs = HOST_DIRS.map((d) => {
  try {
    Deno.statSync(d);
    return true;
  } catch {
    return false;
  }
});

/** The entries of a dir; none when it is missing. */
async function dirEntries(dir: string): Promise<Deno.DirEntry[]> {
  return await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
}

async function sha256Hex(
  data: Uint8Array<ArrayBuffer> | string,
): Promise<string> {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** An OCI descriptor of a blob written to `blobs/sha256/`. */
async function writeBlob(
  layout: string,
  mediaType: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const hex = await sha256Hex(bytes);
  await Deno.writeFile(`${layout}/blobs/sha256/${hex}`, bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/**
 * Builds the sandbox ("pause") image as an OCI image archive under `dir`:
 * one uncompressed layer holding busybox-static, whose `sleep` is the
 * sandbox's process, named `name` (containerd's
 * `io.containerd.image.name`). No registry involved. Returns the tar.
 */
export async function buildSandboxImage(
  dir: string,
  name: string,
): Promise<string> {
  const rootfs = `${dir}/rootfs`;
  const layout = `${dir}/layout`;
  await Deno.mkdir(`${rootfs}/bin`, { recursive: true });
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  await Deno.copyFile("/bin/busybox", `${rootfs}/bin/busybox`);
  await Deno.chmod(`${rootfs}/bin/busybox`, 0o755);
  const layerTar = `${dir}/layer.tar`;
  await mustSh([
    "tar",
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mtime=@0",
    "-C",
    rootfs,
    "-cf",
    layerTar,
    ".",
  ]);
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const layer = await writeBlob(
    layout,
    "application/vnd.oci.image.layer.v1.tar",
    await Deno.readFile(layerTar),
  );
  const config = await writeBlob(
    layout,
    "application/vnd.oci.image.config.v1+json",
    json({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: ["/bin/busybox", "sleep", "2147483647"] },
      // Uncompressed, so the diff ID is the layer's digest.
      rootfs: { type: "layers", diff_ids: [layer.digest] },
    }),
  );
  const manifest = await writeBlob(
    layout,
    "application/vnd.oci.image.manifest.v1+json",
    json({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config,
      layers: [layer],
    }),
  );
  await Deno.writeTextFile(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        ...manifest,
        annotations: {
          "io.containerd.image.name": name,
          "org.opencontainers.image.ref.name": name.split(":").pop(),
        },
      }],
    }),
  );
  await Deno.writeTextFile(
    `${layout}/oci-layout`,
    JSON.stringify({ imageLayoutVersion: "1.0.0" }),
  );
  const tar = `${dir}/image.tar`;
  await mustSh(["tar", "-C", layout, "-cf", tar, "."]);
  return tar;
}

/** Options of {@link Containerd.start}. */
export interface ContainerdOptions {
  /** The CNI plugins' dir (must hold `loopback` too: containerd adds its own). */
  binDir: string;
  /** The CNI conf dir (1.6 loads its first file only). */
  confDir: string;
  /** containerd's own dir (root, state, socket, config, log); a temp dir when absent. */
  dir?: string;
}

/** What containerd left of some sandboxes, outside the network. */
export interface ContainerdLeaks {
  /** Network namespaces still mounted under the state dir. */
  netns: string[];
  /** Mounts below containerd's dir. */
  mounts: string[];
  /** containerd's libcni cache entries of the sandboxes. */
  cniCache: string[];
  /** Shim sockets of the sandboxes. */
  shimSockets: string[];
  /** cgroup dirs of the sandboxes. */
  cgroups: string[];
  /** runc state dirs. */
  runc: string[];
}

/** A containerd daemon of the test's own, with a CRI client. */
export class Containerd implements AsyncDisposable {
  /** containerd's dir. */
  readonly dir: string;
  /** `--root`. */
  readonly root: string;
  /** `--state`. */
  readonly state: string;
  /** `--address` (gRPC, CRI included). */
  readonly address: string;
  /** The config file. */
  readonly configFile: string;
  /** containerd's stderr (its log), appended across restarts. */
  readonly logFile: string;
  /** The sandbox image's name. */
  readonly sandboxImage: string;
  /** The cgroup parent of every sandbox {@link runPodSandbox} starts. */
  readonly cgroupParent: string;
  /** The snapshotter in use. */
  snapshotter: "overlayfs" | "native" = "overlayfs";
  /** Sandboxes run through {@link runPodSandbox} and not removed yet. */
  readonly sandboxes: Set<string> = new Set();
  /** Every sandbox ever run (for the cleanup of host paths). */
  readonly #everRun = new Set<string>();
  #child: Deno.ChildProcess | undefined;
  #cri: CriClient | undefined;
  readonly #ownsDir: boolean;

  private constructor(
    readonly opts: ContainerdOptions,
    dir: string,
    ownsDir: boolean,
  ) {
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.root = `${dir}/root`;
    this.state = `${dir}/state`;
    this.address = `${dir}/containerd.sock`;
    this.configFile = `${dir}/config.toml`;
    this.logFile = `${dir}/containerd.log`;
    const tag = randomHex(8);
    this.sandboxImage = `localhost/cnishim-pause:${tag}`;
    this.cgroupParent = `/cnishim-e2e-${tag}`;
  }

  /**
   * Starts containerd, waits for its CRI `Status` to list the network
   * ready, and imports the sandbox image. `overlayfs` when containerd
   * reports it usable here, else `native`. On failure everything started
   * is stopped and removed again.
   */
  static async start(opts: ContainerdOptions): Promise<Containerd> {
    const dir = opts.dir ??
      await Deno.makeTempDir({ prefix: "cnishim-ctrd-" });
    if (opts.dir) await Deno.mkdir(dir, { recursive: true });
    const c = new Containerd(opts, dir, !opts.dir);
    try {
      await c.#writeConfig();
      await c.#spawn();
      if (!(await c.#overlayfsUsable())) {
        await c.stop();
        c.snapshotter = "native";
        await c.#writeConfig();
        await c.#spawn();
      }
      await c.waitNetworkReady();
      const image = await buildSandboxImage(`${dir}/image`, c.sandboxImage);
      await c.ctr(["images", "import", "--snapshotter", c.snapshotter, image]);
    } catch (error) {
      const log = await c.logTail();
      await c[Symbol.asyncDispose]();
      throw new Error(`containerd did not start: ${error}\n${log}`, {
        cause: error,
      });
    }
    return c;
  }

  /** The CRI client (one channel per daemon run). */
  get cri(): CriClient {
    this.#cri ??= new CriClient(this.address);
    return this.#cri;
  }

  /** containerd's pid, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #writeConfig(): Promise<void> {
    const q = JSON.stringify; // TOML basic strings take JSON's escapes
    const cri = '[plugins."io.containerd.grpc.v1.cri"]';
    await Deno.writeTextFile(
      this.configFile,
      [
        "version = 2",
        `root = ${q(this.root)}`,
        `state = ${q(this.state)}`,
        // Plugins that touch host paths or cannot work here.
        `disabled_plugins = ${
          q([
            "io.containerd.internal.v1.opt",
            "io.containerd.snapshotter.v1.aufs",
            "io.containerd.snapshotter.v1.btrfs",
            "io.containerd.snapshotter.v1.devmapper",
            "io.containerd.snapshotter.v1.zfs",
            "io.containerd.tracing.processor.v1.otlp",
            "io.containerd.internal.v1.tracing",
          ])
        }`,
        "[grpc]",
        `  address = ${q(this.address)}`,
        "[debug]",
        '  level = "info"',
        cri,
        `  sandbox_image = ${q(this.sandboxImage)}`,
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        '  stream_server_port = "0"',
        `${cri.slice(0, -1)}.cni]`,
        `  bin_dir = ${q(this.opts.binDir)}`,
        `  conf_dir = ${q(this.opts.confDir)}`,
        "  max_conf_num = 1",
        `${cri.slice(0, -1)}.containerd]`,
        `  snapshotter = ${q(this.snapshotter)}`,
        '  default_runtime_name = "runc"',
        `${cri.slice(0, -1)}.containerd.runtimes.runc]`,
        '  runtime_type = "io.containerd.runc.v2"',
        `${cri.slice(0, -1)}.containerd.runtimes.runc.options]`,
        `  Root = ${q(`${this.state}/runc`)}`,
        "",
      ].join("\n"),
    );
  }

  async #spawn(): Promise<void> {
    const log = await Deno.open(this.logFile, {
      append: true,
      create: true,
      mode: 0o644,
    });
    this.#child = new Deno.Command("containerd", {
      args: [
        "--config",
        this.configFile,
        "--root",
        this.root,
        "--state",
        this.state,
        "--address",
        this.address,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The pump ends when containerd exits; it closes the file.
    this.#child.stderr.pipeTo(log.writable).catch(() => {});
    const child = this.#child;
    let exited = false;
    child.status.then(() => exited = true);
    await waitFor(
      async () => {
        if (exited) {
          throw new Error(`containerd exited: ${await this.logTail()}`);
        }
        return await Deno.stat(this.address).then(() => true, () => false);
      },
      20_000,
      `containerd's socket ${this.address}`,
    );
  }

  async #overlayfsUsable(): Promise<boolean> {
    const plugins = await this.ctr(["plugins", "ls"]);
    return plugins.split("\n").some((l) =>
      /^io\.containerd\.snapshotter\.v1\s+overlayfs\s+.*\sok\s*$/.test(l)
    );
  }

  /** Runs `ctr` against this containerd in the CRI namespace; its stdout. */
  ctr(args: string[]): Promise<string> {
    return mustSh([
      "ctr",
      "--address",
      this.address,
      "--namespace",
      K8S_NAMESPACE,
      ...args,
    ]);
  }

  /** Waits until CRI `Status` has `NetworkReady` true (its CNI config loaded). */
  async waitNetworkReady(ms = 20_000): Promise<void> {
    let last = "no answer";
    try {
      await waitFor(
        async () => {
          try {
            const conditions = await this.cri.status();
            last = JSON.stringify(conditions);
            return conditions.some((c) =>
              c.type === "NetworkReady" && c.status
            );
          } catch (error) {
            last = String(error);
            return false;
          }
        },
        ms,
        "containerd's CRI Status listing NetworkReady",
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; last: ${last}`);
    }
  }

  /**
   * `RunPodSandbox` with this daemon's cgroup parent; on failure the error
   * carries the tail of containerd's log.
   */
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    try {
      const id = await this.cri.runPodSandbox({
        ...config,
        linux: { ...config.linux, cgroupParent: this.cgroupParent },
      });
      this.sandboxes.add(id);
      this.#everRun.add(id);
      return id;
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await this.logTail()}`, {
        cause: error,
      });
    }
  }

  /** `StopPodSandbox` then `RemovePodSandbox`, as kubelet does. */
  async stopAndRemove(id: string): Promise<void> {
    await this.cri.stopPodSandbox(id);
    await this.cri.removePodSandbox(id);
    this.sandboxes.delete(id);
  }

  /** The last `lines` lines of containerd's log. */
  async logTail(lines = 40): Promise<string> {
    const text = await Deno.readTextFile(this.logFile).catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  /** containerd's log lines at level error. */
  async logErrors(): Promise<string[]> {
    const text = await Deno.readTextFile(this.logFile).catch(() => "");
    return text.split("\n").filter((l) => l.includes("level=error"));
  }

  /** Stops containerd by pid (SIGTERM, SIGKILL after 10 s); its shims go on. */
  async stop(): Promise<void> {
    this.#cri?.close();
    this.#cri = undefined;
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }, 10_000);
    await child.status;
    clearTimeout(timer);
  }

  /** Stops and starts containerd again on the same config, root and state. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
    await this.waitNetworkReady();
  }

  /** The shim socket of a sandbox (`sha256(<address>/<ns>/<id>)`). */
  async shimSocket(id: string): Promise<string> {
    return `${SHIM_SOCKETS}/${await sha256Hex(
      `${this.address}/${K8S_NAMESPACE}/${id}`,
    )}`;
  }

  /** Mount points below containerd's dir, deepest first. */
  async mounts(): Promise<string[]> {
    const info = await Deno.readTextFile("/proc/self/mountinfo");
    return info.split("\n").map((l) => l.split(" ")[4] ?? "")
      .map((p) =>
        p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))
      )
      .filter((p) => p.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
  }

  async #cgroupDirs(ids: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const ctrl of await dirEntries("/sys/fs/cgroup")) {
      for (const id of ids) {
        const d = `/sys/fs/cgroup/${ctrl.name}${this.cgroupParent}/${id}`;
        if (await Deno.stat(d).then(() => true, () => false)) found.push(d);
      }
    }
    return found;
  }

  /** What containerd left of sandboxes `ids` outside the network. */
  async leaks(ids: readonly string[]): Promise<ContainerdLeaks> {
    const cniCache = (await listFiles(CONTAINERD_CNI_CACHE)).filter((f) =>
      ids.some((id) => f.includes(`-${id}-`))
    );
    const shimSockets: string[] = [];
    for (const id of ids) {
      const s = await this.shimSocket(id);
      if (await Deno.lstat(s).then(() => true, () => false)) {
        shimSockets.push(s);
      }
    }
    const runcRoot = `${this.state}/runc/${K8S_NAMESPACE}`;
    return {
      netns: await listFiles(`${this.state}/io.containerd.grpc.v1.cri/netns`),
      mounts: (await this.mounts()).filter((m) =>
        ids.some((id) => m.includes(id)) || m.includes("/netns/")
      ),
      cniCache,
      shimSockets,
      cgroups: await this.#cgroupDirs(ids),
      runc: (await listFiles(runcRoot)).filter((f) =>
        ids.some((id) => f.startsWith(id))
      ),
    };
  }

  /** The sandbox IDs containerd knows of on disk (its CRI root). */
  async #sandboxesOnDisk(): Promise<string[]> {
    const ids: string[] = [];
    const d = `${this.root}/io.containerd.grpc.v1.cri/sandboxes`;
    for (const e of await dirEntries(d)) ids.push(e.name);
    return ids;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Sandboxes a failed test left: through the CRI first, so that the CNI
    // DELs run; short deadlines, the forced cleanup follows anyway.
    if (this.#child) {
      for (const id of this.sandboxes) {
        await this.cri.stopPodSandbox(id).catch(() => {});
        await this.cri.removePodSandbox(id).catch(() => {});
      }
    }
    const ids = [
      ...new Set([...this.#everRun, ...await this.#sandboxesOnDisk()]),
    ];
    await this.stop();
    const runcRoot = `${this.state}/runc/${K8S_NAMESPACE}`;
    for (const e of await dirEntries(runcRoot)) {
      await sh(["runc", "--root", runcRoot, "delete", "--force", e.name]);
      ids.push(e.name);
    }
    // The shims of this daemon name its socket on their command line.
    await killLeftovers([this.address], []);
    for (const m of await this.mounts()) {
      if ((await sh(["umount", m])).code !== 0) await sh(["umount", "-l", m]);
    }
    for (const id of ids) {
      await Deno.remove(await this.shimSocket(id)).catch(() => {});
    }
    for (const d of await this.#cgroupDirs(ids)) {
      await Deno.remove(d).catch(() => {});
    }
    for (const ctrl of await dirEntries("/sys/fs/cgroup")) {
      await Deno.remove(`/sys/fs/cgroup/${ctrl.name}${this.cgroupParent}`)
        .catch(() => {});
    }
    for (const f of await listFiles(CONTAINERD_CNI_CACHE)) {
      if (ids.some((id) => f.includes(`-${id}-`))) {
        await Deno.remove(`${CONTAINERD_CNI_CACHE}/${f}`).catch(() => {});
      }
    }
    for (const [i, d] of HOST_DIRS.entries()) {
      if (!hadHostDirs[i]) await Deno.remove(d).catch(() => {}); // only if empty
    }
    if (this.#ownsDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    } else {
      for (const sub of [this.root, this.state]) {
        await Deno.remove(sub, { recursive: true }).catch(() => {});
      }
    }
  }
}
