/**
 * Fixtures for the end-to-end tests: network namespaces, a test bed (temp
 * conf/cache/IPAM dirs, unique bridges and subnets, the CLI's global
 * flags) and a leak check. Every fixture is `AsyncDisposable`, so
 * `await using` removes what a test made even after a failed assertion.
 *
 * Rules the fixtures keep: bridge names `cs<4 hex>` (≤ 15 bytes), subnets
 * `10.244.<n>.0/24` with n ≠ 99 (the demo's), reserved across concurrently
 * running test processes; host-local's `dataDir` inside the temp dir.
 *
 * @module
 */
import { type CliRun, runCli, type RunCliOptions } from "./run_cli.ts";

/** The real plugins Debian installs. */
export const REAL_BIN_DIR = "/usr/lib/cni";

/** The demo's subnet, never used by tests. */
export const DEMO_SUBNET = "10.244.99.0/24";

/** What a host command produced. */
export interface Output {
  /** Exit status. */
  code: number;
  /** Stdout text. */
  stdout: string;
  /** Stderr text. */
  stderr: string;
}

/** Runs a host command and collects its output (never throws on exit status). */
export async function sh(cmd: readonly string[]): Promise<Output> {
  const [bin, ...args] = cmd;
  const out = await new Deno.Command(bin!, {
    args,
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

/** A network namespace under `/var/run/netns`. */
export interface Netns extends AsyncDisposable {
  /** The name `ip netns` knows it by. */
  readonly name: string;
  /** `/var/run/netns/<name>`. */
  readonly path: string;
  /** Runs `cmd` inside the namespace (`ip netns exec`). */
  exec(cmd: readonly string[]): Promise<Output>;
}

/** Whether a link of that name exists on the host. */
export async function linkExists(name: string): Promise<boolean> {
  return (await sh(["ip", "link", "show", "dev", name])).code === 0;
}

/**
 * Pings `ip` once from inside `from`, failing with ping's output when no
 * answer comes within 2 s. Every test pings with busybox's ping: busybox-static
 * is a real part already, and a bare Debian root has no other ping.
 */
export async function ping(from: Netns, ip: string): Promise<void> {
  const out = await from.exec(["busybox", "ping", "-c", "1", "-W", "2", ip]);
  if (out.code !== 0) {
    throw new Error(
      `ping ${ip} from ${from.name} failed (exit ${out.code}): ${out.stdout}${out.stderr}`,
    );
  }
}

/** Link names inside a namespace. */
export async function linksIn(ns: Pick<Netns, "name">): Promise<string[]> {
  const out = await sh(["ip", "-n", ns.name, "-j", "link", "show"]);
  if (out.code !== 0) throw new Error(out.stderr);
  return (JSON.parse(out.stdout) as { ifname: string }[]).map((l) => l.ifname)
    .sort();
}

/** `addr/prefix` of the IPv4 addresses on a link inside a namespace. */
export async function addressesIn(ns: Netns, link: string): Promise<string[]> {
  const out = await sh([
    "ip",
    "-n",
    ns.name,
    "-j",
    "-4",
    "addr",
    "show",
    "dev",
    link,
  ]);
  if (out.code !== 0) return [];
  return (JSON.parse(out.stdout) as {
    addr_info: { local: string; prefixlen: number }[];
  }[]).flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

/** Deletes a host link; a link already gone is fine. */
export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await sh(["ip", "link", "del", "dev", name]);
}

/**
 * Creates a fresh network namespace `<prefix>-<8 hex>`; disposing deletes
 * it (a namespace already deleted by the test is fine).
 */
export async function createNetns(prefix = "cs"): Promise<Netns> {
  const name = `${prefix}-${randomHex(8)}`;
  await mustSh(["ip", "netns", "add", name]);
  const path = `/var/run/netns/${name}`;
  return {
    name,
    path,
    exec: (cmd) => sh(["ip", "netns", "exec", name, ...cmd]),
    async [Symbol.asyncDispose]() {
      try {
        await Deno.stat(path);
      } catch {
        return;
      }
      // Processes the test started in the namespace (a server, say).
      const pids = await sh(["ip", "netns", "pids", name]);
      for (const pid of pids.stdout.split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await sh(["ip", "netns", "del", name]);
    },
  };
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

// Subnet reservations shared by every test process on the host: one file
// per third octet, created with O_EXCL. /run is a tmpfs, so a reservation
// a crashed run left behind is gone after a reboot (and meanwhile costs
// one of 253 numbers).
const SUBNET_REGISTRY = "/run/cnishim-e2e/subnets";

/** A reserved `10.244.<n>.0/24`. */
export interface Subnet extends AsyncDisposable {
  /** `10.244.<n>.0/24`. */
  readonly cidr: string;
  /** `10.244.<n>`. */
  readonly base: string;
  /** `10.244.<n>.1`, the bridge's address. */
  readonly gateway: string;
}

/** Reserves a subnet no other test, the demo or a host route uses. */
export async function reserveSubnet(): Promise<Subnet> {
  await Deno.mkdir(SUBNET_REGISTRY, { recursive: true });
  const routes = await mustSh(["ip", "-4", "route", "show", "table", "all"]);
  const start = 1 + Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const n = 1 + (start + i) % 254;
    if (n === 99) continue;
    const base = `10.244.${n}`;
    if (routes.includes(`${base}.`)) continue;
    const file = `${SUBNET_REGISTRY}/${n}`;
    try {
      await Deno.writeTextFile(file, String(Deno.pid), { createNew: true });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw error;
    }
    return {
      cidr: `${base}.0/24`,
      base,
      gateway: `${base}.1`,
      async [Symbol.asyncDispose]() {
        await Deno.remove(file).catch(() => {});
      },
    };
  }
  throw new Error(`No free 10.244.x.0/24 subnet left (see ${SUBNET_REGISTRY})`);
}

/** One bridge network of a test bed. */
export interface BridgeNetwork {
  /** The network name. */
  name: string;
  /** The bridge device. */
  bridge: string;
  /** The subnet. */
  subnet: Subnet;
  /** The conflist. */
  conflist: Record<string, unknown>;
  /** Where it was written. */
  file: string;
}

/** Options of {@link TestBed.addBridgeNetwork}. */
export interface BridgeNetworkOptions {
  /** Network name (lower-case); `n<4 hex>` when absent. */
  name?: string;
  /** File name in the conf dir; `<order>-<name>.conflist` when absent. */
  file?: string;
  /** Ordering prefix of the file name. @default {"10"} */
  order?: string;
  /** Add the portmap plugin (portMappings capability). */
  portmap?: boolean;
  /** Replace the IPAM section (to make a broken network). */
  ipam?: (subnet: Subnet, dataDir: string) => Record<string, unknown>;
  /** Write no file (only reserve bridge and subnet). */
  noFile?: boolean;
}

/**
 * A temp dir with `net.d/`, `cache/`, `ipam/` and an empty shim config
 * (so that `/etc/cnishim/config.json` never leaks in), plus the bridges
 * and subnets its networks use. Disposing deletes bridges, releases the
 * subnets and removes the dir.
 */
export class TestBed implements AsyncDisposable {
  /** The temp dir. */
  readonly root: string;
  /** The conf dir. */
  readonly confDir: string;
  /** The cache dir. */
  readonly cacheDir: string;
  /** host-local's dataDir. */
  readonly dataDir: string;
  /** The shim config file (`{}`). */
  readonly configFile: string;
  /** Networks made so far. */
  readonly networks: BridgeNetwork[] = [];
  readonly #extraLinks: string[] = [];
  readonly #containerIds = new Set<string>();

  private constructor(root: string) {
    this.root = root;
    this.confDir = `${root}/net.d`;
    this.cacheDir = `${root}/cache`;
    this.dataDir = `${root}/ipam`;
    this.configFile = `${root}/config.json`;
  }

  /** Makes the dirs. */
  static async create(): Promise<TestBed> {
    const bed = new TestBed(
      await Deno.makeTempDir({ prefix: "cnishim-e2e-" }),
    );
    await Deno.mkdir(bed.confDir);
    await Deno.writeTextFile(bed.configFile, "{}\n");
    return bed;
  }

  /** The global flags pointing the CLI at this bed and the real plugins. */
  get globalFlags(): string[] {
    return [
      "--cni-bin-dir",
      REAL_BIN_DIR,
      "--cni-conf-dir",
      this.confDir,
      "--cni-cache-dir",
      this.cacheDir,
      "--config",
      this.configFile,
    ];
  }

  /**
   * Runs the CLI child with this bed's global flags appended. The
   * container of an `add` is remembered, so that disposing the bed tears
   * it down if the test did not get that far.
   */
  cli(args: string[], opts?: RunCliOptions): Promise<CliRun> {
    if (args[0] === "add" && args[1]) this.#containerIds.add(args[1]);
    return runCli([...args, ...this.globalFlags], opts);
  }

  /** Also delete this host link on dispose. */
  deleteOnDispose(link: string): void {
    this.#extraLinks.push(link);
  }

  /**
   * Reserves a bridge name and a subnet and writes a bridge + host-local
   * network (`ipMasq: false`, `dataDir` in the bed) to the conf dir.
   */
  async addBridgeNetwork(
    opts: BridgeNetworkOptions = {},
  ): Promise<BridgeNetwork> {
    const subnet = await reserveSubnet();
    let bridge = `cs${randomHex(4)}`;
    while (await linkExists(bridge)) bridge = `cs${randomHex(4)}`;
    const name = opts.name ?? `n${randomHex(4)}`;
    const plugins: Record<string, unknown>[] = [{
      type: "bridge",
      bridge,
      isGateway: true,
      ipMasq: false,
      ipam: opts.ipam?.(subnet, this.dataDir) ?? {
        type: "host-local",
        ranges: [[{ subnet: subnet.cidr }]],
        dataDir: this.dataDir,
      },
    }];
    if (opts.portmap) {
      plugins.push({ type: "portmap", capabilities: { portMappings: true } });
    }
    const conflist = { cniVersion: "1.0.0", name, plugins };
    const file = `${this.confDir}/${
      opts.file ?? `${opts.order ?? "10"}-${name}.conflist`
    }`;
    if (!opts.noFile) {
      await Deno.writeTextFile(file, JSON.stringify(conflist, null, 2));
    }
    const net = { name, bridge, subnet, conflist, file };
    this.networks.push(net);
    return net;
  }

  /** The leak check over everything this bed's networks touch. */
  async leaks(containerIds: readonly string[]): Promise<Leaks> {
    return await leakCheck({
      bridges: this.networks.map((n) => n.bridge),
      dataDir: this.dataDir,
      cacheDir: this.cacheDir,
      containerIds,
      networks: this.networks.map((n) => n.name),
    });
  }

  /** Throws, listing what is left, unless {@link leaks} finds nothing. */
  async assertNoLeaks(containerIds: readonly string[]): Promise<void> {
    assertNoLeaks(await this.leaks(containerIds));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const cached = [
      ...await listFiles(`${this.cacheDir}/results`),
      ...await listFiles(`${this.cacheDir}/cnishim/pods`),
    ];
    for (const id of this.#containerIds) {
      if (cached.some((f) => f.includes(`-${id}-`) || f === `${id}.json`)) {
        await this.cli(["del", id]); // best effort: iptables rules, IPs
      }
    }
    await purgePortmapRules([...this.#containerIds]).catch(() => {});
    for (const link of this.#extraLinks) await deleteLink(link);
    for (const net of this.networks) {
      await deleteLink(net.bridge);
      await net.subnet[Symbol.asyncDispose]();
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** Where to look for leftovers of some pods. */
export interface LeakContext {
  /** Bridges whose enslaved veths count as leftovers. */
  bridges?: readonly string[];
  /** host-local's dataDir. */
  dataDir?: string;
  /** The shim's cache dir. */
  cacheDir?: string;
  /** Container IDs whose iptables rules count as leftovers. */
  containerIds?: readonly string[];
  /** Network names, to compute the per-container chain names. */
  networks?: readonly string[];
}

/** What a pod left behind; every list empty when nothing leaked. */
export interface Leaks {
  /** `<bridge>: <veth>` for each interface enslaved to a bridge. */
  veths: string[];
  /** host-local allocations (files other than `lock`, `last_reserved_ip.*`). */
  ipam: string[];
  /** Files under `<cacheDir>/results`. */
  cache: string[];
  /** nat/filter lines naming a container's chains or mentioning its ID. */
  iptables: string[];
  /** Files under `<cacheDir>/cnishim/pods`. */
  podRecords: string[];
  /** The containers' lock files (`<cacheDir>/locks/<id>.lock`). */
  locks: string[];
}

/**
 * The chain names the CNI plugins derive for a container (libcni utils'
 * `MustFormatChainNameWithPrefix`): `CNI-<prefix>` + the hex SHA-512 of
 * network name + container ID, cut to 28 characters. Portmap uses `DN-`,
 * bridge's ipMasq none.
 */
export async function cniChainName(
  network: string,
  containerId: string,
  prefix = "",
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-512",
    new TextEncoder().encode(network + containerId),
  );
  const hex = [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `CNI-${prefix}${hex}`.slice(0, 28);
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

/**
 * host-local's allocations below `dir` (its dataDir, or one network's dir
 * in it): its lock and last-reserved files do not count.
 */
export async function ipamAllocations(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => {
    const base = f.slice(f.lastIndexOf("/") + 1);
    return base !== "lock" && !base.startsWith("last_reserved_ip.");
  });
}

/** The veths enslaved to `bridge` (none when the bridge does not exist). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const out = await sh(["ip", "-j", "link", "show", "master", bridge]);
  if (out.code !== 0 || !out.stdout.trim()) return [];
  return (JSON.parse(out.stdout) as { ifname: string }[]).map((l) => l.ifname);
}

/** The lines of `iptables -t <table> -S`. */
export async function iptablesLines(table = "nat"): Promise<string[]> {
  return (await mustSh(["iptables", "-w", "-t", table, "-S"]))
    .split("\n").filter(Boolean);
}

/**
 * Removes portmap's per-pod rules of `containerIds` that no DEL can reach
 * any more (their mappings were lost): the `CNI-HOSTPORT-DNAT` jumps whose
 * comment names one of them, and the `CNI-DN-` chains they jump to. For
 * test cleanup, so a failed test leaves the host's nat table clean too.
 * Returns the chains removed.
 */
export async function purgePortmapRules(
  containerIds: readonly string[],
): Promise<string[]> {
  if (containerIds.length === 0) return [];
  const chains = new Set<string>();
  for (const line of await iptablesLines("nat")) {
    if (!line.startsWith("-A CNI-HOSTPORT-DNAT ")) continue;
    if (!containerIds.some((id) => line.includes(`id: \\"${id}\\"`))) continue;
    const chain = / -j (CNI-DN-[0-9a-f]+)/.exec(line)?.[1];
    if (chain) chains.add(chain);
  }
  if (chains.size === 0) return [];
  // By rule number, last first, so the numbers still to delete hold.
  const listed = await mustSh([
    "iptables",
    "-w",
    "-t",
    "nat",
    "-L",
    "CNI-HOSTPORT-DNAT",
    "--line-numbers",
    "-n",
  ]);
  const numbers = listed.split("\n")
    .map((l) => l.split(/\s+/))
    .filter((w) => chains.has(w[1] ?? ""))
    .map((w) => Number(w[0]))
    .sort((a, b) => b - a);
  for (const n of numbers) {
    await mustSh([
      "iptables",
      "-w",
      "-t",
      "nat",
      "-D",
      "CNI-HOSTPORT-DNAT",
      `${n}`,
    ]);
  }
  for (const chain of chains) {
    await mustSh(["iptables", "-w", "-t", "nat", "-F", chain]);
    await mustSh(["iptables", "-w", "-t", "nat", "-X", chain]);
  }
  return [...chains];
}

/**
 * Lists what is left of some pods: veths on the bridges, host-local
 * allocations, cached results, iptables lines (the per-container `CNI-DN-`
 * and `CNI-` chains, and rules mentioning a container ID; the shared
 * `CNI-HOSTPORT-*` chains stay by design) and pod records.
 */
export async function leakCheck(ctx: LeakContext): Promise<Leaks> {
  const leaks: Leaks = {
    veths: [],
    ipam: [],
    cache: [],
    iptables: [],
    podRecords: [],
    locks: [],
  };
  for (const bridge of ctx.bridges ?? []) {
    for (const port of await bridgePorts(bridge)) {
      leaks.veths.push(`${bridge}: ${port}`);
    }
  }
  if (ctx.dataDir) {
    leaks.ipam = await ipamAllocations(ctx.dataDir);
  }
  if (ctx.cacheDir) {
    leaks.cache = await listFiles(`${ctx.cacheDir}/results`);
    leaks.podRecords = await listFiles(`${ctx.cacheDir}/cnishim/pods`);
    leaks.locks = (await listFiles(`${ctx.cacheDir}/locks`)).filter((f) =>
      (ctx.containerIds ?? []).some((id) => f === `${id}.lock`)
    );
  }
  const ids = ctx.containerIds ?? [];
  if (ids.length) {
    const chains = new Set<string>();
    for (const net of ctx.networks ?? []) {
      for (const id of ids) {
        chains.add(await cniChainName(net, id, "DN-"));
        chains.add(await cniChainName(net, id));
      }
    }
    for (const table of ["nat", "filter"]) {
      for (const line of await iptablesLines(table)) {
        const words = line.split(" ");
        if (
          ids.some((id) => line.includes(id)) ||
          words.some((w) => chains.has(w))
        ) {
          leaks.iptables.push(`${table}: ${line}`);
        }
      }
    }
  }
  return leaks;
}

/** Throws, listing every leftover, unless `leaks` is all empty. */
export function assertNoLeaks<T extends { [K in keyof T]: string[] }>(
  leaks: T,
): void {
  const left = (Object.entries(leaks) as [string, string[]][]).filter(([, v]) =>
    v.length
  );
  if (left.length) {
    throw new Error(
      `Left behind:\n${
        left.map(([k, v]) => `  ${k}:\n${v.map((x) => `    ${x}`).join("\n")}`)
          .join("\n")
      }`,
    );
  }
}
