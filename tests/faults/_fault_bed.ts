/**
 * Fixtures for the fault-injection suite: a {@link TestBed} with a second
 * bin dir holding a scriptable "fault" plugin, chains mixing it with the
 * real plugins, the CLI child with any flags, and a leak check that goes
 * beyond the e2e one: lock files (held or left on disk), processes left
 * running, besides veths, host-local allocations, iptables, cache entries
 * and pod records.
 *
 * @module
 */
import {
  assertNoLeaks,
  leakCheck,
  type Leaks,
} from "../_helpers/leak_check.ts";
import {
  type BridgeNetwork,
  type Subnet,
  TestBed,
} from "../_helpers/test_bed.ts";
import { purgePortmapRules } from "../_helpers/iptables.ts";
import { randomHex } from "../_helpers/shell.ts";
import {
  baseEnv,
  cliCommand,
  type CliRun,
  runCli,
  type RunCliOptions,
} from "../_helpers/run_cli.ts";
import { killLeftovers, leftoverProcesses } from "../_helpers/processes.ts";

/** What the fault plugin does for one `CNI_COMMAND`. */
export interface FaultAction {
  /** Writes its pid to this file first (to know it is running). */
  marker?: string;
  /** Acts only while {@link marker} does not exist yet (a retry then passes). */
  once?: boolean;
  /** Fills the filesystem of this path with zeros until it is full. */
  fill?: string;
  /** Bind-mounts this dir onto itself read-only (the test unmounts it). */
  remountRo?: string;
  /** Seconds to wait, in a `sleep` child (so a kill must reach the group). */
  sleep?: number;
  /** Prints this CNI error object and exits 1 (or {@link exit}). */
  error?: { code: number; msg: string; details?: string };
  /** Prints exactly this on stdout. */
  stdout?: string;
  /** Prints nothing at all. */
  silent?: boolean;
  /** The exit status. @default {0 (1 with error)} */
  exit?: number;
}

/** What the fault plugin does per command; without an action ADD passes `prevResult` on. */
export type Faults = Partial<Record<"ADD" | "DEL" | "CHECK", FaultAction>>;

// A CNI plugin as a Deno script: logs "<type> <COMMAND> <id> <ifname>" to
// calls.log beside itself, acts out the fault its config asks for, and
// otherwise passes prevResult on (so the real plugins after it keep
// working). The shebang names this very deno binary.
const FAULT_PLUGIN = `
const conf = JSON.parse(await new Response(Deno.stdin.readable).text());
const cmd = Deno.env.get("CNI_COMMAND") ?? "";
const out = (s) => Deno.stdout.writeSync(new TextEncoder().encode(s));
if (cmd === "VERSION") {
  out(JSON.stringify({ cniVersion: "1.1.0", supportedVersions: ["0.3.1", "0.4.0", "1.0.0", "1.1.0"] }));
  Deno.exit(0);
}
const self = new URL(Deno.mainModule).pathname;
Deno.writeTextFileSync(
  self.slice(0, self.lastIndexOf("/")) + "/calls.log",
  [self.slice(self.lastIndexOf("/") + 1), cmd, Deno.env.get("CNI_CONTAINERID"), Deno.env.get("CNI_IFNAME")].join(" ") + "\\n",
  { append: true },
);
let a = conf.faults?.[cmd] ?? {};
if (a.once && a.marker) {
  try { Deno.statSync(a.marker); a = {}; } catch { /* first time */ }
}
if (a.marker) Deno.writeTextFileSync(a.marker, String(Deno.pid));
if (a.fill) {
  const f = Deno.openSync(a.fill, { write: true, create: true, append: true });
  const chunk = new Uint8Array(4096);
  try { for (;;) f.writeSync(chunk); } catch { /* full */ }
  f.close();
}
if (a.remountRo) {
  for (const args of [["--bind", a.remountRo, a.remountRo], ["-o", "remount,ro,bind", a.remountRo]]) {
    const r = new Deno.Command("mount", { args }).outputSync();
    if (!r.success) {
      out(JSON.stringify({ code: 999, msg: "mount failed: " + new TextDecoder().decode(r.stderr) }));
      Deno.exit(1);
    }
  }
}
if (a.sleep) await new Deno.Command("sleep", { args: [String(a.sleep)] }).spawn().status;
if (a.error) {
  out(JSON.stringify({ cniVersion: conf.cniVersion, ...a.error }));
  Deno.exit(a.exit ?? 1);
}
if (a.stdout !== undefined) out(a.stdout);
else if (!a.silent && cmd === "ADD") out(JSON.stringify(conf.prevResult ?? { cniVersion: conf.cniVersion }));
Deno.exit(a.exit ?? 0);
`;

/** Writes the fault plugin as `<dir>/<type>`. */
export async function installFaultPlugin(
  dir: string,
  type = "fault",
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${type}`;
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env -S ${Deno.execPath()} run -A --no-config --no-lock\n${FAULT_PLUGIN}`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** The bridge + host-local plugin of a bed network. */
export function bridgePlugin(
  bridge: string,
  subnet: Subnet,
  dataDir: string,
): Record<string, unknown> {
  return {
    type: "bridge",
    bridge,
    isGateway: true,
    ipMasq: false,
    ipam: {
      type: "host-local",
      ranges: [[{ subnet: subnet.cidr }]],
      dataDir,
    },
  };
}

/** The portmap plugin with its capability. */
export const PORTMAP = {
  type: "portmap",
  capabilities: { portMappings: true },
};

/** What a chain builder gets. */
export interface ChainContext {
  /** The real bridge plugin of the network. */
  bridge: Record<string, unknown>;
  /** A fault plugin config. */
  fault: (faults?: Faults) => Record<string, unknown>;
}

/** Options of {@link FaultBed.cli}. */
export interface FaultCliOptions extends RunCliOptions {
  /** Another cache dir than the bed's. */
  cacheDir?: string;
  /** Another conf dir than the bed's. */
  confDir?: string;
  /** Leave the fault bin dir out of the plugin path. */
  noFaultBin?: boolean;
}

/** Everything {@link FaultBed.leaks} finds; all empty when nothing leaked. */
export interface FaultLeaks extends Leaks {
  /** Lock files some process still holds (a non-blocking flock fails). */
  locksHeld: string[];
  /** Processes still running that belong to the test (`pid cmdline`). */
  processes: string[];
}

/**
 * A test bed for faults: real plugins from `/usr/lib/cni` after a bin dir
 * with the fault plugin, a call log, and the CLI run with those dirs.
 */
export class FaultBed implements AsyncDisposable {
  /** The underlying e2e bed (conf, cache, IPAM dirs, bridges, subnets). */
  readonly bed: TestBed;
  /** The bin dir searched before the real one. */
  readonly faultBin: string;
  /** The call log of the plugins in {@link faultBin}. */
  readonly log: string;
  readonly #ids = new Set<string>();
  readonly #cacheDirs = new Set<string>();

  private constructor(bed: TestBed) {
    this.bed = bed;
    this.faultBin = `${bed.root}/fault-bin`;
    this.log = `${this.faultBin}/calls.log`;
    this.#cacheDirs.add(bed.cacheDir);
  }

  /** Makes the bed and installs the fault plugin. */
  static async create(): Promise<FaultBed> {
    const fb = new FaultBed(await TestBed.create());
    await installFaultPlugin(fb.faultBin);
    return fb;
  }

  /** The temp dir. */
  get root(): string {
    return this.bed.root;
  }

  /**
   * Reserves a bridge and subnet and writes a network whose plugins the
   * builder returns (`bridge` is the real bridge + host-local plugin).
   */
  async network(
    chain: (ctx: ChainContext) => Record<string, unknown>[],
    opts: { order?: string; name?: string } = {},
  ): Promise<BridgeNetwork> {
    const net = await this.bed.addBridgeNetwork({ noFile: true, ...opts });
    const plugins = chain({
      bridge: bridgePlugin(net.bridge, net.subnet, this.bed.dataDir),
      fault: (faults) => ({ type: "fault", ...(faults ? { faults } : {}) }),
    });
    net.conflist = { cniVersion: "1.0.0", name: net.name, plugins };
    net.file = `${this.bed.confDir}/${opts.order ?? "10"}-${net.name}.conflist`;
    await Deno.writeTextFile(net.file, JSON.stringify(net.conflist, null, 2));
    return net;
  }

  /** The CLI flags for this bed. */
  flags(opts: FaultCliOptions = {}): string[] {
    return [
      ...(opts.noFaultBin ? [] : ["--cni-bin-dir", this.faultBin]),
      "--cni-bin-dir",
      "/usr/lib/cni",
      "--cni-conf-dir",
      opts.confDir ?? this.bed.confDir,
      "--cni-cache-dir",
      opts.cacheDir ?? this.bed.cacheDir,
      "--config",
      this.bed.configFile,
    ];
  }

  /** Runs the CLI child; an `add`'s container is deleted on dispose. */
  cli(args: string[], opts: FaultCliOptions = {}): Promise<CliRun> {
    this.#remember(args, opts);
    return runCli([...args, ...this.flags(opts)], opts);
  }

  /** Starts the CLI child without waiting (to kill it midway). */
  spawnCli(args: string[], opts: FaultCliOptions = {}): Deno.ChildProcess {
    this.#remember(args, opts);
    const [cmd, ...lead] = cliCommand();
    return new Deno.Command(cmd, {
      args: [...lead, ...args, ...this.flags(opts)],
      clearEnv: true,
      env: { ...baseEnv(), ...opts.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  #remember(args: string[], opts: FaultCliOptions): void {
    if (args[0] === "add" && args[1]) this.#ids.add(args[1]);
    if (opts.cacheDir) this.#cacheDirs.add(opts.cacheDir);
  }

  /** The fault plugins' calls so far (`<type> <COMMAND> <id> <ifname>`). */
  async calls(): Promise<string[]> {
    try {
      return (await Deno.readTextFile(this.log)).split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  /** The leak check, over `cacheDir` (the bed's by default). */
  async leaks(
    containerIds: readonly string[],
    cacheDir = this.bed.cacheDir,
  ): Promise<FaultLeaks> {
    // Nothing can be under a cache dir that is a file.
    const isDir = await Deno.stat(cacheDir).then(
      (s) => s.isDirectory,
      () => false,
    );
    const base = await leakCheck({
      bridges: this.bed.networks.map((n) => n.bridge),
      dataDir: this.bed.dataDir,
      ...(isDir ? { cacheDir } : {}),
      containerIds,
      networks: this.bed.networks.map((n) => n.name),
    });
    return {
      ...base,
      locksHeld: await heldLocks(cacheDir),
      processes: await leftoverProcesses([this.root], containerIds),
    };
  }

  /**
   * What one pod left while others may be running: {@link leaks} cut down
   * to lines naming `containerId` (host-local allocations by their
   * content). Veths cannot be told apart on the host; a test checks the
   * pod's namespace instead.
   */
  async leaksOf(containerId: string): Promise<FaultLeaks> {
    const all = await this.leaks([containerId]);
    const mine = (lines: string[]) =>
      lines.filter((l) => l.includes(containerId));
    const ipam: string[] = [];
    for (const f of all.ipam) {
      const text = await Deno.readTextFile(`${this.bed.dataDir}/${f}`)
        .catch(() => "");
      if (text.split(/\s/)[0] === containerId) ipam.push(f);
    }
    return {
      veths: [],
      ipam,
      cache: mine(all.cache),
      iptables: all.iptables, // already only this container's
      podRecords: mine(all.podRecords),
      locks: all.locks,
      locksHeld: mine(all.locksHeld),
      processes: mine(all.processes),
    };
  }

  /** Throws, listing what is left, unless {@link leaks} finds nothing. */
  async assertNoLeaks(
    containerIds: readonly string[],
    cacheDir?: string,
  ): Promise<void> {
    assertNothingLeft(await this.leaks(containerIds, cacheDir));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Best effort, so that a failed test leaves the host clean too.
    await killLeftovers([this.root], [...this.#ids]);
    for (const cacheDir of this.#cacheDirs) {
      for (const id of this.#ids) {
        await runCli(["del", id, ...this.flags({ cacheDir })]).catch(() => {});
      }
    }
    await purgePortmapRules([...this.#ids]).catch(() => {});
    await this.bed[Symbol.asyncDispose]();
  }
}

/** Throws, listing every leftover, unless every list is empty. */
export const assertNothingLeft: (leaks: FaultLeaks) => void = assertNoLeaks;

/**
 * The lock files under `<cacheDir>/locks` (and its `containers/`) that a process holds, from
 * /proc/locks. Not by trying them: `flock(1)` creates a file it cannot
 * find, so probing one that its holder unlinked meanwhile leaves a lock
 * file behind, the very leak this looks for.
 */
export async function heldLocks(cacheDir: string): Promise<string[]> {
  // The GC lock, and the containers' in their own directory (by name).
  const paths = new Map<string, string>();
  for (const dir of [`${cacheDir}/locks`, `${cacheDir}/locks/containers`]) {
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.name !== "containers") paths.set(e.name, `${dir}/${e.name}`);
      }
    } catch {
      // Not there yet.
    }
  }
  const names = [...paths.keys()];
  // Fields: id, FLOCK, ADVISORY, mode, pid, major:minor:inode (hex:hex:dec).
  const locked = new Set(
    (await Deno.readTextFile("/proc/locks")).split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === "FLOCK")
      .map((f) => f[5]),
  );
  const held: string[] = [];
  for (const name of names.sort()) {
    const info = await Deno.lstat(paths.get(name)!).catch(() => undefined);
    if (!info?.dev || !info.ino) continue;
    const dev = BigInt(info.dev);
    const major = (dev >> 8n) & 0xfffn | (dev >> 32n) & ~0xfffn;
    const minor = dev & 0xffn | (dev >> 12n) & ~0xffn;
    const key = `${major.toString(16).padStart(2, "0")}:${
      minor.toString(16).padStart(2, "0")
    }:${info.ino}`;
    if (locked.has(key)) held.push(name);
  }
  return held;
}

/** A container ID unique to one test. */
export function faultId(tag: string): string {
  return `flt-${randomHex(8)}-${tag}`;
}

/** A port mapping flag value for one random host port. */
export function portMappingsFlag(): string[] {
  return [
    "--port-mappings",
    JSON.stringify([{
      protocol: 0,
      container_port: 80,
      host_port: 20000 + Math.floor(Math.random() * 10000),
    }]),
  ];
}

export { explain } from "../_helpers/run_cli.ts";
