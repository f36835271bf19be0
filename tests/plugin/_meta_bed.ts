/**
 * Fixture of the meta-plugin tests: a temp bin dir where `dockin-cni` is a
 * wrapper exec'ing cnishim (source or `CNISHIM_ARTIFACT`) and `bridge` /
 * `static` link to Debian's plugins, a conf dir with bridge networks on
 * unique bridges and reserved subnets, a cache dir, and a `Deno.serve`
 * backend on 127.0.0.1 with switchable answers that records every request.
 * Disposing removes all of it, even after a failed assertion.
 *
 * @module
 */
import { cliCommand } from "../_helpers/run_cli.ts";
import {
  bridgePorts,
  deleteLink,
  linkExists,
  type Netns,
} from "../_helpers/netns.ts";
import { listFiles, randomHex, sh, spawnWithStdin } from "../_helpers/shell.ts";
import {
  REAL_BIN_DIR,
  reserveSubnet,
  type Subnet,
} from "../_helpers/test_bed.ts";

/** One bridge network of the bed. */
export interface MetaNetwork {
  /** Its name (what the backend's `type` says). */
  name: string;
  /** The bridge. */
  bridge: string;
  /** The subnet. */
  subnet: Subnet;
  /** The config file. */
  file: string;
}

/** One network entry as the backend sends it. */
export interface NetInfo {
  type: string;
  podIp: string;
  subnetMask: string;
  gateway: string;
  ifName: string;
  master: boolean;
}

/** How the backend answers. */
export type BackendMode =
  | { kind: "ok" }
  | { kind: "status"; status: number; body: string }
  | { kind: "json"; body: unknown }
  | { kind: "hang" };

/** What one plugin run produced. */
export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
  json(): Record<string, unknown>;
}

/** Options of {@link MetaBed.invoke}. */
export interface InvokeOptions {
  ifName?: string;
  podName?: string | null;
  extraArgs?: string;
  config?: Record<string, unknown>;
  netns?: string;
}

/** Every bridge and netns any bed made, for the suite's final leak audit. */
export const MADE: { bridges: Set<string>; netns: Set<string> } = {
  bridges: new Set(),
  netns: new Set(),
};

/** The test bed. */
export class MetaBed implements AsyncDisposable {
  readonly root: string;
  readonly binDir: string;
  readonly confDir: string;
  readonly cacheDir: string;
  readonly logFile: string;
  readonly networks: MetaNetwork[] = [];
  /** URLs the backend was asked for, in order. */
  readonly requests: string[] = [];
  /** Pod name → networks, for `ok` mode. */
  readonly pods = new Map<string, NetInfo[]>();
  mode: BackendMode = { kind: "ok" };
  backendUrl = "";
  #server: Deno.HttpServer | undefined;
  #hangs: (() => void)[] = [];

  private constructor(root: string) {
    this.root = root;
    this.binDir = `${root}/bin`;
    this.confDir = `${root}/net.d`;
    this.cacheDir = `${root}/cache`;
    this.logFile = `${root}/dockin-cni.log`;
  }

  /**
   * Makes the dirs, the bin links, `count` networks and the backend. The
   * `dockin` layout is a Dockin node's bin dir and nothing more:
   * `dockin-cni` and `dockin-ipam` (cnishim), `bridge` and `loopback`.
   */
  static async create(
    count = 2,
    version = "1.0.0",
    layout: "cnishim" | "dockin" = "cnishim",
  ): Promise<MetaBed> {
    const bed = new MetaBed(
      await Deno.makeTempDir({ prefix: "cnishim-meta-" }),
    );
    try {
      await Deno.mkdir(bed.binDir);
      await Deno.mkdir(bed.confDir);
      const real = layout === "dockin" ? ["bridge", "loopback"] : [
        "bridge",
        "static",
      ];
      for (const p of real) {
        await Deno.symlink(`${REAL_BIN_DIR}/${p}`, `${bed.binDir}/${p}`);
      }
      const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
      const wrapper = `#!/bin/sh\nexec ${cliCommand().map(quote).join(" ")}\n`;
      if (layout === "dockin") {
        for (const name of ["dockin-cni", "dockin-ipam"]) {
          await Deno.writeTextFile(`${bed.binDir}/${name}`, wrapper, {
            mode: 0o755,
          });
        }
      } else {
        await Deno.writeTextFile(`${bed.binDir}/cnishim-wrapper`, wrapper, {
          mode: 0o755,
        });
        await Deno.symlink("cnishim-wrapper", `${bed.binDir}/dockin-cni`);
      }
      for (let i = 0; i < count; i++) await bed.addNetwork(version);
      bed.startBackend();
    } catch (error) {
      await bed[Symbol.asyncDispose]();
      throw error;
    }
    return bed;
  }

  /** Writes a bridge network `.conf` (`ipMasq` off; its ipam gets replaced). */
  async addNetwork(
    version = "1.0.0",
    extra: Record<string, unknown> = {},
  ): Promise<MetaNetwork> {
    const subnet = await reserveSubnet();
    let bridge = `cs${randomHex(4)}`;
    while (await linkExists(bridge)) bridge = `cs${randomHex(4)}`;
    MADE.bridges.add(bridge);
    const name = `net${this.networks.length}-${randomHex(4)}`;
    const file = `${this.confDir}/${10 + this.networks.length}-${name}.conf`;
    const net = { name, bridge, subnet, file };
    this.networks.push(net);
    await this.writeNetwork(net, version, extra);
    return net;
  }

  /** (Re)writes a network's file. */
  async writeNetwork(
    net: MetaNetwork,
    version: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await Deno.writeTextFile(
      net.file,
      JSON.stringify({
        cniVersion: version,
        name: net.name,
        type: "bridge",
        bridge: net.bridge,
        isGateway: true,
        ipMasq: false,
        ipam: { type: "host-local", subnet: net.subnet.cidr },
        ...extra,
      }),
    );
  }

  /** The meta plugin's config. */
  metaConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: "1.0.0",
      name: "dockin",
      type: "dockin-cni",
      confDir: this.confDir,
      binDir: this.binDir,
      cacheDir: this.cacheDir,
      logFile: this.logFile,
      logLevel: "debug",
      backend: this.backendUrl,
      backendTimeoutMs: 1000,
      // Debian's static, which this bed's bin dir has (a Dockin node has
      // dockin-ipam, the default: see the dockin layout).
      ipamType: "static",
      ...overrides,
    };
  }

  /** Entry `i` of a pod's answer: network `net`, address `.host`. */
  entry(
    net: number,
    host: number,
    ifName: string,
    master: boolean,
    mask = "255.255.255.0",
  ): NetInfo {
    const n = this.networks[net]!;
    return {
      type: n.name,
      podIp: `${n.subnet.base}.${host}`,
      subnetMask: mask,
      gateway: n.subnet.gateway,
      ifName,
      master,
    };
  }

  startBackend(): void {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        this.requests.push(req.url);
        const mode = this.mode;
        switch (mode.kind) {
          case "status":
            return new Response(mode.body, { status: mode.status });
          case "json":
            return Response.json(mode.body);
          case "hang":
            await new Promise<void>((resolve) => this.#hangs.push(resolve));
            return new Response("late");
          default: {
            const pod = new URL(req.url).searchParams.get("podName") ?? "";
            const data = this.pods.get(pod);
            return Response.json(
              data
                ? { code: 0, reqId: "r1", message: "ok", data }
                : { code: 1, reqId: "r1", message: `pod ${pod} unknown` },
            );
          }
        }
      },
    );
    this.backendUrl = `http://127.0.0.1:${
      (this.#server.addr as Deno.NetAddr).port
    }/rmController/getPodMultiNetwork`;
  }

  /** Stops the backend: later requests are refused. */
  async stopBackend(): Promise<void> {
    for (const resolve of this.#hangs.splice(0)) resolve();
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  /** Runs `<binDir>/dockin-cni` as a runtime does. */
  async invoke(
    command: string,
    containerId: string,
    ns: Netns | undefined,
    opts: InvokeOptions = {},
  ): Promise<PluginRun> {
    const args = ["IgnoreUnknown=1", "K8S_POD_NAMESPACE=default"];
    if (opts.podName !== null) {
      args.push(`K8S_POD_NAME=${opts.podName ?? containerId}`);
    }
    args.push(`K8S_POD_INFRA_CONTAINER_ID=${containerId}`);
    if (opts.extraArgs) args.push(opts.extraArgs);
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: opts.netns ?? ns?.path ?? "",
      CNI_IFNAME: opts.ifName ?? "eth0",
      CNI_ARGS: args.join(";"),
      CNI_PATH: this.binDir,
    };
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) env.DENO_DIR = denoDir;
    const out = await spawnWithStdin(
      `${this.binDir}/dockin-cni`,
      JSON.stringify(opts.config ?? this.metaConfig()),
      { clearEnv: true, env },
    );
    const { stdout, stderr } = out;
    return {
      code: out.code,
      stdout,
      stderr,
      json() {
        try {
          return JSON.parse(stdout);
        } catch {
          throw new Error(
            `${command} ${containerId}: no JSON (exit ${out.code})\nstdout: ${stdout}\nstderr: ${stderr}`,
          );
        }
      },
    };
  }

  /** Record files (`<cid>.json`, quarantined ones too) in the cache dir. */
  async records(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(this.cacheDir)) {
        if (e.isFile && e.name.includes(".json")) out.push(e.name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return out.sort();
  }

  /** libcni result files of the delegates. */
  async resultFiles(): Promise<string[]> {
    return await listFiles(`${this.cacheDir}/results`);
  }

  /** Veths on this bed's bridges. */
  async veths(): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.networks) {
      for (const p of await bridgePorts(n.bridge)) out.push(`${n.bridge}:${p}`);
    }
    return out;
  }

  /** Throws listing leftovers unless no record, result file or veth is left. */
  async assertClean(): Promise<void> {
    const left = {
      records: (await this.records()).filter((r) => !r.endsWith(".corrupt")),
      results: await this.resultFiles(),
      veths: await this.veths(),
    };
    if (Object.values(left).some((v) => v.length)) {
      throw new Error(`Left behind: ${JSON.stringify(left)}`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopBackend();
    for (const n of this.networks) {
      await deleteLink(n.bridge);
      await n.subnet[Symbol.asyncDispose]();
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** The IPv4 routes inside a namespace, as `ip route` prints them. */
export async function routesIn(ns: Netns): Promise<string[]> {
  const out = await sh(["ip", "-n", ns.name, "-4", "route", "show"]);
  return out.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}
