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
import { mustSh, randomHex } from "../_helpers/shell.ts";
import { Containerd, CONTAINERD_CNI_CACHE } from "./_containerd.ts";
import type {
  PodSandboxConfig,
  PodSandboxStatusResponse,
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
  sanitizeResources: false,
  sanitizeOps: false,
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
