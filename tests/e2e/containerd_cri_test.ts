/**
 * containerd's CRI end to end: Debian's containerd 1.6, started by the
 * test with a private config, root, state and socket (`_containerd.ts`),
 * driven by a small CRI v1 gRPC client (`_containerd_cri.ts`; no `crictl`
 * here) the way kubelet drives it: RunPodSandbox, PodSandboxStatus,
 * StopPodSandbox, RemovePodSandbox. Real plugins in real namespaces; every
 * scenario ends with a leak check of the network (links, addresses,
 * host-local files, per-pod iptables chains, caches, pod records, locks)
 * and of containerd (netns mounts, shim sockets, cgroups, its libcni
 * cache).
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { assertNoLeaks } from "../_helpers/leak_check.ts";
import {
  type BridgeNetwork,
  REAL_BIN_DIR,
  TestBed,
} from "../_helpers/test_bed.ts";
import { cniChainName, iptablesLines } from "../_helpers/iptables.ts";
import { listFiles, mustSh, randomHex } from "../_helpers/shell.ts";
import { installFrontEndPlugin } from "../_helpers/front_end_plugin.ts";
import { Containerd, CONTAINERD_CNI_CACHE } from "./_containerd.ts";
import {
  inspectp,
  type PodSandboxConfig,
  type PodSandboxStatusResponse,
} from "./_containerd_cri.ts";

/** A pod's sandbox config: unique name and UID, optional extras. */
function podConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  const name = `pod-${randomHex(6)}`;
  return {
    metadata: { name, uid: crypto.randomUUID(), namespace: "default" },
    hostname: name,
    ...extra,
  };
}

/** The sandbox's network namespace path, from the verbose status. */
function netnsOf(status: PodSandboxStatusResponse): string {
  const info = JSON.parse(status.info.info ?? "{}");
  const ns = (info.runtimeSpec?.linux?.namespaces ?? []) as {
    type: string;
    path?: string;
  }[];
  const path = ns.find((n) => n.type === "network")?.path;
  if (!path) throw new Error(`no network namespace in ${status.info.info}`);
  return path;
}

/** `ifname → [addr/prefix]` of the IPv4 addresses inside a netns file. */
async function addressesInNetns(
  path: string,
): Promise<Record<string, string[]>> {
  const out = await mustSh([
    "nsenter",
    `--net=${path}`,
    "ip",
    "-j",
    "-4",
    "addr",
    "show",
  ]);
  const links = JSON.parse(out) as {
    ifname: string;
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return Object.fromEntries(
    links.map((l) => [
      l.ifname,
      l.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
    ]),
  );
}

/** A host port nobody else in the suite uses. */
function hostPort(): number {
  return 20_000 + Math.floor(Math.random() * 10_000);
}

/** portmap's DNAT of `id` on `net`: the hostport jump and its chain's rule. */
async function dnatLines(
  net: BridgeNetwork,
  id: string,
): Promise<string[]> {
  const chain = await cniChainName(net.name, id, "DN-");
  return (await iptablesLines("nat")).filter((l) =>
    l.split(" ").includes(chain)
  );
}

Deno.test({
  name:
    "e2e containerd CRI: its own bridge + host-local + portmap conflist gives a pod an IP PodSandboxStatus reports and a DNAT rule; Stop + Remove leave nothing (the harness itself)",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork({ portmap: true });
    await using ctrd = await Containerd.start({
      binDir: REAL_BIN_DIR,
      confDir: bed.confDir,
      dir: `${bed.root}/containerd`,
    });
    const version = await ctrd.cri.version();
    equal(version.runtimeName, "containerd");
    match(version.runtimeVersion, /^1\.6\./);
    equal(version.runtimeApiVersion, "v1");

    const port = hostPort();
    const id = await ctrd.runPodSandbox(podConfig({
      portMappings: [{ protocol: "TCP", containerPort: 80, hostPort: port }],
    }));
    const status = await ctrd.cri.podSandboxStatus(id, true);
    equal(status.status.state, "SANDBOX_READY");
    const ip = status.status.network?.ip ?? "";
    match(ip, new RegExp(`^${net.subnet.base.replaceAll(".", "\\.")}\\.\\d+$`));
    deepEqual(
      (await addressesInNetns(netnsOf(status))).eth0,
      [`${ip}/24`],
    );
    ok(
      (await dnatLines(net, id)).some((l) =>
        l.includes(`--dport ${port}`) && l.includes(`${ip}:80`)
      ),
      "portmap's DNAT rule to the pod",
    );
    ok(
      await Deno.stat(`${CONTAINERD_CNI_CACHE}/${net.name}-${id}-eth0`).then(
        () => true,
        () => false,
      ),
      "containerd's libcni cached the result",
    );

    await ctrd.stopAndRemove(id);
    await bed.assertNoLeaks([id]);
    assertNoLeaks(await ctrd.leaks([id]));
  },
});

/** cnishim as containerd's one CNI plugin, the real chain behind it. */
interface CnishimNode extends AsyncDisposable {
  bed: TestBed;
  ctrd: Containerd;
  /** The default network (the first after cnishim's file). */
  primary: BridgeNetwork;
  /** The network named `side`, picked by annotation. */
  side: BridgeNetwork;
  /** The outer conflist's network name (containerd's libcni cache key). */
  outerName: string;
}

/**
 * A bin dir with Debian's plugins and `cnishim` (the packaged forwarder
 * running the shim under test), a conf dir
 * holding `00-cnishim.conflist` first, the primary bridge + host-local +
 * portmap network next and `side`, and containerd on both.
 */
async function cnishimNode(): Promise<CnishimNode> {
  const bed = await TestBed.create();
  try {
    const binDir = `${bed.root}/bin`;
    await Deno.mkdir(binDir);
    for await (const e of Deno.readDir(REAL_BIN_DIR)) {
      await Deno.symlink(`${REAL_BIN_DIR}/${e.name}`, `${binDir}/${e.name}`);
    }
    await installFrontEndPlugin(binDir);
    const primary = await bed.addBridgeNetwork({ order: "10", portmap: true });
    const side = await bed.addBridgeNetwork({ order: "20", name: "side" });
    const outerName = "cnishim";
    await Deno.writeTextFile(
      `${bed.confDir}/00-cnishim.conflist`,
      JSON.stringify(
        {
          cniVersion: "1.0.0",
          name: outerName,
          plugins: [{
            type: "cnishim",
            confDir: bed.confDir,
            binDir,
            cacheDir: bed.cacheDir,
            config: bed.configFile,
            logFile: `${bed.root}/cnishim.log`,
            capabilities: {
              portMappings: true,
              bandwidth: true,
              ips: true,
              mac: true,
              dns: true,
              "io.kubernetes.cri.pod-annotations": true,
            },
          }],
        },
        null,
        2,
      ),
    );
    const ctrd = await Containerd.start({
      binDir,
      confDir: bed.confDir,
      dir: `${bed.root}/containerd`,
    });
    return {
      bed,
      ctrd,
      primary,
      side,
      outerName,
      async [Symbol.asyncDispose]() {
        await ctrd[Symbol.asyncDispose]();
        await bed[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await bed[Symbol.asyncDispose]();
    throw error;
  }
}

/** Both leak checks: the network's (bed) and containerd's. */
async function assertNothingLeft(
  node: CnishimNode,
  ids: readonly string[],
): Promise<void> {
  await node.bed.assertNoLeaks(ids);
  assertNoLeaks(await node.ctrd.leaks(ids));
}

/** A regex of the addresses in `net`'s subnet. */
function inSubnet(net: BridgeNetwork): RegExp {
  return new RegExp(`^${net.subnet.base.replaceAll(".", "\\.")}\\.\\d+$`);
}

/** The cached result files of pod `id` in cnishim's cache. */
async function cnishimCached(bed: TestBed, id: string): Promise<string[]> {
  return (await listFiles(`${bed.cacheDir}/results`)).filter((f) =>
    f.includes(`-${id}-`)
  );
}

const cnishimTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name: `e2e containerd CRI, cnishim as its CNI plugin: ${name}`,
    ignore: SKIP_REAL_PARTS,
    async fn() {
      await requireRealParts();
      await fn();
    },
  });

cnishimTest(
  "(1) a pod with a port mapping gets its IP from the primary network, PodSandboxStatus reports it, the DNAT rule exists, Stop + Remove leave nothing",
  async () => {
    await using node = await cnishimNode();
    const { ctrd, primary, bed } = node;
    const port = hostPort();
    const id = await ctrd.runPodSandbox(podConfig({
      portMappings: [{ protocol: "TCP", containerPort: 8080, hostPort: port }],
    }));
    const status = await ctrd.cri.podSandboxStatus(id, true);
    const out = Deno.env.get("CNISHIM_INSPECTP_OUT");
    if (out) {
      await Deno.writeTextFile(
        out,
        JSON.stringify(inspectp(status), null, 2) + "\n",
      );
    }
    equal(status.status.state, "SANDBOX_READY");
    const ip = status.status.network?.ip ?? "";
    match(ip, inSubnet(primary));
    deepEqual(status.status.network?.additionalIps, []);
    deepEqual((await addressesInNetns(netnsOf(status))).eth0, [`${ip}/24`]);
    ok(
      (await dnatLines(primary, id)).some((l) =>
        l.includes(`--dport ${port}`) && l.includes(`${ip}:8080`)
      ),
      `portmap's DNAT rule to ${ip}:8080`,
    );
    // Through cnishim: its cache holds the inner network's result,
    // containerd's holds the outer one's.
    deepEqual(await cnishimCached(bed, id), [`${primary.name}-${id}-eth0`]);
    ok(
      await Deno.stat(`${CONTAINERD_CNI_CACHE}/${node.outerName}-${id}-eth0`)
        .then(() => true, () => false),
      "containerd's libcni cached cnishim's result",
    );

    await ctrd.stopAndRemove(id);
    await assertNothingLeft(node, [id]);
    deepEqual(await ctrd.logErrors(), []);
  },
);

cnishimTest(
  '(2) a pod annotated network.alpha.kubernetes.io/network {"name":"side","interface":"eth1"} gets eth1 on the second network too, and loses both on Stop',
  async () => {
    await using node = await cnishimNode();
    const { ctrd, primary, side, bed } = node;
    const id = await ctrd.runPodSandbox(podConfig({
      annotations: {
        "network.alpha.kubernetes.io/network": JSON.stringify({
          name: "side",
          interface: "eth1",
        }),
      },
    }));
    const status = await ctrd.cri.podSandboxStatus(id, true);
    const ip = status.status.network?.ip ?? "";
    match(ip, inSubnet(primary));
    // Only the default network's result reaches containerd.
    deepEqual(status.status.network?.additionalIps, []);
    const addrs = await addressesInNetns(netnsOf(status));
    deepEqual(addrs.eth0, [`${ip}/24`]);
    equal(addrs.eth1?.length, 1, `eth1: ${JSON.stringify(addrs)}`);
    match(addrs.eth1![0]!.split("/")[0]!, inSubnet(side));
    deepEqual(
      await cnishimCached(bed, id),
      [
        `${primary.name}-${id}-eth0`,
        `side-${id}-eth1`,
      ].sort(),
    );

    await ctrd.cri.stopPodSandbox(id);
    // Stop alone tears both attachments down (Remove's DEL finds nothing).
    const afterStop = await bed.leaks([id]);
    deepEqual(
      { veths: afterStop.veths, ipam: afterStop.ipam, cache: afterStop.cache },
      { veths: [], ipam: [], cache: [] },
    );
    await ctrd.cri.removePodSandbox(id);
    ctrd.sandboxes.delete(id);
    await assertNothingLeft(node, [id]);
    deepEqual(await ctrd.logErrors(), []);
  },
);

cnishimTest(
  "(3) containerd restarted between Run and Stop still tears down",
  async () => {
    await using node = await cnishimNode();
    const { ctrd, primary } = node;
    const id = await ctrd.runPodSandbox(podConfig({
      portMappings: [{
        protocol: "TCP",
        containerPort: 80,
        hostPort: hostPort(),
      }],
    }));
    const before = await ctrd.cri.podSandboxStatus(id);
    match(before.status.network?.ip ?? "", inSubnet(primary));
    const pid = ctrd.pid;
    await ctrd.restart();
    ok(ctrd.pid !== pid, "a new containerd process");
    const after = await ctrd.cri.podSandboxStatus(id);
    equal(after.status.network?.ip, before.status.network?.ip);
    ok((await dnatLines(primary, id)).length > 0, "DNAT survives the restart");
    deepEqual(await cnishimCached(node.bed, id), [
      `${primary.name}-${id}-eth0`,
    ]);

    await ctrd.stopAndRemove(id);
    await assertNothingLeft(node, [id]);
  },
);

cnishimTest(
  "(4) the inner conf file deleted between Run and Stop: teardown still complete",
  async () => {
    await using node = await cnishimNode();
    const { ctrd, primary } = node;
    const id = await ctrd.runPodSandbox(podConfig({
      portMappings: [{
        protocol: "TCP",
        containerPort: 80,
        hostPort: hostPort(),
      }],
    }));
    match(
      (await ctrd.cri.podSandboxStatus(id)).status.network?.ip ?? "",
      inSubnet(primary),
    );
    ok((await dnatLines(primary, id)).length > 0);
    await Deno.remove(primary.file);

    await ctrd.stopAndRemove(id);
    await assertNothingLeft(node, [id]);
    deepEqual(await ctrd.logErrors(), []);
  },
);

cnishimTest(
  "(5) 20 pods run concurrently all get distinct IPs from the primary network, and all are removed",
  async () => {
    await using node = await cnishimNode();
    const { ctrd, primary } = node;
    const ids = await Promise.all(
      Array.from({ length: 20 }, () => ctrd.runPodSandbox(podConfig())),
    );
    const ips = await Promise.all(
      ids.map(async (id) =>
        (await ctrd.cri.podSandboxStatus(id)).status.network?.ip ?? ""
      ),
    );
    for (const ip of ips) match(ip, inSubnet(primary));
    equal(new Set(ips).size, 20, `distinct: ${ips.join(" ")}`);

    await Promise.all(ids.map((id) => ctrd.stopAndRemove(id)));
    await assertNothingLeft(node, ids);
    deepEqual(await ctrd.logErrors(), []);
  },
);
