/**
 * The real pods of figures 3 and 4 (root only): 20 namespaces, three
 * bridge networks (bridge + host-local, portmap, tuning), a warm server on
 * them, and the same plugin chain run directly as the floor.
 *
 * @module
 */
import { join } from "node:path";
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
  /** The CLI's flags for them. */
  flags: string[];
  /** The warm server's socket. */
  socket: string;
  /** The path of namespace `i`. */
  netns(i: number): string;
  /** The chain of `net` run directly in namespace `i`: ADD and DEL ms. */
  directPod(
    net: RealNetwork,
    i: number,
    ifName: string,
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
  const name = (i: number) => `cnishim-bench-${i}`;
  const dataDir = join(bed.tmp, "ipam");
  const nets = [0, 1, 2].map((i) =>
    bridgeNetwork(`bench${i}`, `cnbench${i}`, `10.244.20${i}.0/24`, dataDir)
  );
  const confDir = join(bed.tmp, "conf-real");
  await Deno.mkdir(confDir);
  for (const [i, n] of nets.entries()) {
    await Deno.writeTextFile(
      join(confDir, `${10 + i}-${n.name}.conflist`),
      JSON.stringify(n),
    );
  }
  bed.defer(async () => {
    for (const b of ["cnbench0", "cnbench1", "cnbench2"]) {
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
  // The floor: the same plugins, same stdin chain, run directly.
  const directPod = async (net: RealNetwork, i: number, ifName: string) => {
    const id = `direct${i}`;
    const base = { name: net.name, cniVersion: net.cniVersion };
    let prev: unknown;
    let add = 0;
    for (const p of net.plugins) {
      const r = await run(p.type, "ADD", id, i, ifName, {
        ...p,
        ...base,
        ...(prev ? { prevResult: prev } : {}),
      });
      add += r.ms;
      prev = JSON.parse(r.stdout);
    }
    let del = 0;
    for (const p of [...net.plugins].reverse()) {
      del += (await run(p.type, "DEL", id, i, ifName, {
        ...p,
        ...base,
        prevResult: prev,
      })).ms;
    }
    return { add, del };
  };
  return {
    pods: PODS,
    nets,
    flags: bed.shimFlags(PLUGINS, confDir, join(bed.tmp, "cache-real")),
    socket,
    netns,
    directPod,
  };
}
