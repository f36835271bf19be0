/**
 * The end-to-end test bed: a temp dir with conf, cache and IPAM dirs,
 * unique bridges and subnets, the CLI's global flags. `AsyncDisposable`,
 * so `await using` removes what a test made even after a failed assertion.
 *
 * Rules the bed keeps: bridge names `cs<4 hex>` (≤ 15 bytes), subnets
 * `10.244.<n>.0/24` with n ≠ 99 (the demo's), reserved across concurrently
 * running test processes; host-local's `dataDir` inside the temp dir.
 *
 * @module
 */
import { type CliRun, runCli, type RunCliOptions } from "./run_cli.ts";
import { listFiles, mustSh, randomHex } from "./shell.ts";
import { deleteLink, linkExists } from "./netns.ts";
import { purgePortmapRules } from "./iptables.ts";
import { assertNoLeaks, leakCheck, type Leaks } from "./leak_check.ts";

/** The real plugins Debian installs. */
export const REAL_BIN_DIR = "/usr/lib/cni";

/** The demo's subnet, never used by tests. */
export const DEMO_SUBNET = "10.244.99.0/24";

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
