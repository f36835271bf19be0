/**
 * The real pods of figures 3, 4 and 8 (root only): 20 namespaces, three
 * bridge networks (bridge + host-local, portmap, tuning), a warm server on
 * them, and the same plugin chain run directly as the floor. Names carry a
 * per-run tag and the subnets are reserved in the test suite's registry,
 * so a bench runs beside the tests and another bench.
 *
 * @module
 */
import { join } from "node:path";
import { reserveSubnet } from "../tests/_helpers/test_bed.ts";
import { sh, timeCmd } from "./_harness.ts";
import { type BenchBed, PLUGINS } from "./_fixtures.ts";

/** One network of the real bed. */
export interface RealNetwork {
  /** Its config list. */
  cniVersion: string;
  /** Its name. */
  name: string;
  /** Its plugins. */
  plugins: { type: string; [key: string]: unknown }[];
}

/** The real bed, set up on a {@link BenchBed} (which cleans it up). */
export interface RealBed {
  /** How many namespaces. */
  pods: number;
  /** The networks `bench0`, `bench1`, `bench2`. */
  nets: RealNetwork[];
  /** The conf dir holding them (`bench0` is its default network). */
  confDir: string;
  /** The CLI's flags for them. */
  flags: string[];
  /** The warm server's socket. */
  socket: string;
  /** The path of namespace `i` (modulo {@link pods}). */
  netns(i: number): string;
  /** The name `ip netns` knows namespace `i` by (modulo {@link pods}). */
  netnsName(i: number): string;
  /**
   * The chain of `net` run directly in namespace `i`: ADD and DEL ms.
   * `capabilityArgs` reach the plugins that declare them as libcni's
   * `runtimeConfig` does.
   */
  directPod(
    net: RealNetwork,
    i: number,
    ifName: string,
    capabilityArgs?: Record<string, unknown>,
  ): Promise<{ add: number; del: number }>;
  /**
   * The chains of `nets` (interface `eth<k>`) run directly and at once in
   * namespace `i`: the wall time of all ADDs, then of all DELs.
   */
  directPods(
    nets: RealNetwork[],
    i: number,
  ): Promise<{ add: number; del: number }>;
}

const PODS = 20;

function bridgeNetwork(
  name: string,
  bridge: string,
  subnet: string,
  dataDir: string,
): RealNetwork {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "bridge",
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: { type: "host-local", dataDir, ranges: [[{ subnet }]] },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "tuning", sysctl: { "net.core.somaxconn": "512" } },
    ],
  };
}

/** Sets up the real bed. */
export async function createRealBed(bed: BenchBed): Promise<RealBed> {
  const tag = crypto.randomUUID().slice(0, 4);
  // A figure may run more pods than there are namespaces: pod i uses
  // namespace i modulo PODS (its ADD and DEL are over before the next).
  const name = (i: number) => `cnishim-bench-${tag}-${i % PODS}`;
  const dataDir = join(bed.tmp, "ipam");
  const bridges = [0, 1, 2].map((i) => `cnb${tag}${i}`);
  const nets: RealNetwork[] = [];
  for (const [i, bridge] of bridges.entries()) {
    const subnet = await reserveSubnet();
    bed.defer(async () => await subnet[Symbol.asyncDispose]());
    nets.push(bridgeNetwork(`bench${i}`, bridge, subnet.cidr, dataDir));
  }
  const confDir = join(bed.tmp, "conf-real");
  await Deno.mkdir(confDir);
  for (const [i, n] of nets.entries()) {
    await Deno.writeTextFile(
      join(confDir, `${10 + i}-${n.name}.conflist`),
      JSON.stringify(n),
    );
  }
  bed.defer(async () => {
    for (const b of bridges) {
      await sh("ip", "link", "del", b).catch(() => {});
    }
  });
  for (let i = 0; i < PODS; i++) {
    await sh("ip", "netns", "add", name(i));
    bed.defer(() => sh("ip", "netns", "del", name(i)));
  }
  const socket = join(bed.tmp, "run", "real.sock");
  await bed.startServer(
    socket,
    bed.shimFlags(PLUGINS, confDir, join(bed.tmp, "cache-real-serve")),
  );
  const netns = (i: number) => `/var/run/netns/${name(i)}`;
  const run = async (
    type: string,
    command: string,
    id: string,
    i: number,
    ifName: string,
    stdin: unknown,
  ) =>
    await timeCmd(join(PLUGINS, type), [], {
      stdin: JSON.stringify(stdin),
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: id,
        CNI_NETNS: netns(i),
        CNI_IFNAME: ifName,
        CNI_PATH: PLUGINS,
        PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      },
    });
  // The floor: the same plugins, same stdin chain, run directly. Each
  // plugin's config as libcni builds it: name, cniVersion, the declared
  // capabilities' runtimeConfig, prevResult.
  const stdin = (
    net: RealNetwork,
    p: RealNetwork["plugins"][number],
    capabilityArgs: Record<string, unknown>,
    prev: unknown,
  ) => {
    const caps = (p.capabilities ?? {}) as Record<string, boolean>;
    const runtimeConfig = Object.fromEntries(
      Object.entries(capabilityArgs).filter(([k]) => caps[k]),
    );
    return {
      ...p,
      name: net.name,
      cniVersion: net.cniVersion,
      ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
      ...(prev ? { prevResult: prev } : {}),
    };
  };
  const directAdd = async (
    net: RealNetwork,
    i: number,
    ifName: string,
    capabilityArgs: Record<string, unknown> = {},
  ) => {
    let prev: unknown;
    let ms = 0;
    for (const p of net.plugins) {
      const r = await run(
        p.type,
        "ADD",
        `direct${i}`,
        i,
        ifName,
        stdin(net, p, capabilityArgs, prev),
      );
      ms += r.ms;
      prev = JSON.parse(r.stdout);
    }
    return { ms, prev };
  };
  const directDel = async (
    net: RealNetwork,
    i: number,
    ifName: string,
    prev: unknown,
    capabilityArgs: Record<string, unknown> = {},
  ) => {
    let ms = 0;
    for (const p of [...net.plugins].reverse()) {
      ms += (await run(
        p.type,
        "DEL",
        `direct${i}`,
        i,
        ifName,
        stdin(net, p, capabilityArgs, prev),
      )).ms;
    }
    return ms;
  };
  const directPod = async (
    net: RealNetwork,
    i: number,
    ifName: string,
    capabilityArgs: Record<string, unknown> = {},
  ) => {
    const added = await directAdd(net, i, ifName, capabilityArgs);
    const del = await directDel(net, i, ifName, added.prev, capabilityArgs);
    return { add: added.ms, del };
  };
  const directPods = async (all: RealNetwork[], i: number) => {
    let t0 = performance.now();
    const added = await Promise.all(
      all.map((net, k) => directAdd(net, i, `eth${k}`)),
    );
    const add = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(
      all.map((net, k) => directDel(net, i, `eth${k}`, added[k]!.prev)),
    );
    return { add, del: performance.now() - t0 };
  };
  return {
    pods: PODS,
    nets,
    confDir,
    flags: bed.shimFlags(PLUGINS, confDir, join(bed.tmp, "cache-real")),
    socket,
    netns,
    netnsName: name,
    directPod,
    directPods,
  };
}
