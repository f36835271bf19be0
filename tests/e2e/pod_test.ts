/**
 * Pods end to end: Debian's real plugins (`bridge`, `host-local`,
 * `portmap`, `loopback`) in real network namespaces, driven through the
 * CLI child exactly as a runtime would. Traffic goes only to loopback or
 * to addresses inside the namespaces each test creates; every test leaves
 * the host as it found it (checked by the leak check, and made so by the
 * fixtures even when an assertion fails).
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { expectExit, explain } from "../_helpers/run_cli.ts";
import {
  addressesIn,
  bridgePorts,
  createNetns,
  linksIn,
  type Netns,
  ping,
} from "../_helpers/netns.ts";
import { cniChainName, iptablesLines } from "../_helpers/iptables.ts";
import { ipamAllocations } from "../_helpers/leak_check.ts";
import { listFiles, randomHex, sh } from "../_helpers/shell.ts";
import { TestBed } from "../_helpers/test_bed.ts";

interface AddOutput {
  networks: { name: string; interface: string; result: unknown }[];
  ips: {
    address: string;
    gateway?: string;
    interface: string;
    network: string;
  }[];
  primaryIP?: string;
  loopback: boolean;
}

interface DelOutput {
  removed: { network: string; interface: string }[];
  warnings: string[];
}

function containerId(tag: string): string {
  return `e2e-${randomHex(8)}-${tag}`;
}

async function addPod(
  bed: TestBed,
  id: string,
  ns: Netns,
  flags: string[] = [],
): Promise<AddOutput> {
  const run = await bed.cli(["add", id, ns.path, ...flags]);
  expectExit(run, 0, `add ${id}`);
  return run.json<AddOutput>();
}

async function delPod(
  bed: TestBed,
  id: string,
  netns?: string,
): Promise<DelOutput> {
  const run = await bed.cli(["del", id, ...(netns ? [netns] : [])]);
  expectExit(run, 0, `del ${id}`);
  return run.json<DelOutput>();
}

/** GETs `url` from this process with a short timeout; never throws. */
async function fetchText(
  url: string,
): Promise<{ text?: string; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    return res.ok ? { text } : { text, error: `HTTP ${res.status}` };
  } catch (e) {
    return { error: String(e) };
  }
}

Deno.test({
  name:
    "e2e: two pods on one bridge get consecutive host-local addresses, reach each other, survive a second add, pass CHECK and leave nothing after DEL",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork();
    await using a = await createNetns("csa");
    await using b = await createNetns("csb");
    const ids = [containerId("a"), containerId("b")] as const;
    const base = net.subnet.base;

    const outA = await addPod(bed, ids[0], a, [
      "--pod-name",
      "pod-a",
      "--pod-namespace",
      "e2e",
    ]);
    const outB = await addPod(bed, ids[1], b);
    equal(outA.primaryIP, `${base}.2`);
    equal(outB.primaryIP, `${base}.3`);
    deepEqual(outA.ips, [{
      address: `${base}.2/24`,
      gateway: net.subnet.gateway,
      interface: "eth0",
      network: net.name,
    }]);
    deepEqual(outA.networks.map((n) => [n.name, n.interface]), [
      [net.name, "eth0"],
    ]);
    equal(outA.loopback, true);

    // Inside the pods: the address on eth0, lo up (the loopback plugin).
    deepEqual(await addressesIn(a, "eth0"), [`${base}.2/24`]);
    deepEqual(await addressesIn(b, "eth0"), [`${base}.3/24`]);
    deepEqual(await addressesIn(a, "lo"), ["127.0.0.1/8"]);
    // On the host: two veths on the bridge, the gateway address on it.
    equal((await bridgePorts(net.bridge)).length, 2);
    match(
      await sh(["ip", "-4", "-o", "addr", "show", "dev", net.bridge]).then((
        o,
      ) => o.stdout),
      new RegExp(`inet ${net.subnet.gateway.replaceAll(".", "\\.")}/24 `),
    );
    // host-local's allocations, in the test's dataDir, name their container.
    deepEqual(await ipamAllocations(`${bed.dataDir}/${net.name}`), [
      `${base}.2`,
      `${base}.3`,
    ]);
    match(
      await Deno.readTextFile(`${bed.dataDir}/${net.name}/${base}.2`),
      new RegExp(`^${ids[0]}\\s+eth0`),
    );
    deepEqual(
      await listFiles(`${bed.cacheDir}/results`),
      ids.flatMap((id) => [`cni-loopback-${id}-lo`, `${net.name}-${id}-eth0`])
        .sort(),
    );

    await ping(a, `${base}.3`);
    await ping(b, `${base}.2`);

    // A second add of pod A is refused before any plugin runs: A keeps its
    // address, its one veth and its allocation, and still answers.
    const again = await bed.cli(["add", ids[0], a.path]);
    expectExit(again, 1, "second add");
    equal(again.json<{ code: number }>().code, 4, explain(again));
    deepEqual(await addressesIn(a, "eth0"), [`${base}.2/24`]);
    equal((await bridgePorts(net.bridge)).length, 2);
    deepEqual(await ipamAllocations(`${bed.dataDir}/${net.name}`), [
      `${base}.2`,
      `${base}.3`,
    ]);
    await ping(b, `${base}.2`);

    for (const [id, ns] of [[ids[0], a], [ids[1], b]] as const) {
      const check = await bed.cli(["check", id, ns.path]);
      expectExit(check, 0, `check ${id}`);
      deepEqual(
        check.json<{ networks: { name: string; status: string }[] }>()
          .networks.map((n) => [n.name, n.status]).sort(),
        [["cni-loopback", "skipped"], [net.name, "ok"]],
      );
    }

    const delA = await delPod(bed, ids[0], a.path);
    deepEqual(delA, {
      removed: [
        { network: net.name, interface: "eth0" },
        { network: "cni-loopback", interface: "lo" },
      ],
      warnings: [],
    });
    deepEqual(await addressesIn(a, "eth0"), []);
    deepEqual(await linksIn(a), ["lo"]);
    // B is untouched by A's DEL, and still reachable from... itself only.
    deepEqual(await addressesIn(b, "eth0"), [`${base}.3/24`]);
    await delPod(bed, ids[1], b.path);
    // DEL again: idempotent, nothing left to remove.
    deepEqual(await delPod(bed, ids[1], b.path), {
      removed: [],
      warnings: [],
    });
    await bed.assertNoLeaks(ids);
  },
});

Deno.test({
  name:
    "e2e: a port mapping creates portmap's DNAT chain that forwards loopback traffic into the pod, and DEL removes it",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork({ portmap: true });
    await using ns = await createNetns("csp");
    const id = containerId("pm");
    const hostPort = 20000 + Math.floor(Math.random() * 10000);
    const out = await addPod(bed, id, ns, [
      "--port-mappings",
      JSON.stringify([
        { protocol: 0, container_port: 80, host_port: hostPort },
        { protocol: 0, container_port: 81 }, // no host port: not mapped
      ]),
    ]);
    const ip = `${net.subnet.base}.2`;
    equal(out.primaryIP, ip);

    const chain = await cniChainName(net.name, id, "DN-");
    const nat = await iptablesLines("nat");
    ok(nat.includes(`-N ${chain}`), `no chain ${chain} in\n${nat.join("\n")}`);
    ok(
      nat.includes(
        `-A ${chain} -p tcp -m tcp --dport ${hostPort} -j DNAT --to-destination ${ip}:80`,
      ),
      nat.join("\n"),
    );
    ok(
      nat.some((l) =>
        l.startsWith("-A CNI-HOSTPORT-DNAT ") &&
        l.includes(`id: \\"${id}\\"`) && l.endsWith(`-j ${chain}`)
      ),
      nat.join("\n"),
    );
    equal(
      nat.filter((l) => l.includes("--dport 81") && l.includes(chain)).length,
      0,
      "a mapping without host port is not mapped",
    );

    // The rule works: a server in the pod answers on the host's loopback.
    const www = `${bed.root}/www`;
    await Deno.mkdir(www);
    const token = `hello-${randomHex(8)}`;
    await Deno.writeTextFile(`${www}/index.html`, token);
    const httpd = await ns.exec(["busybox", "httpd", "-p", "80", "-h", www]);
    equal(httpd.code, 0, httpd.stderr);
    const url = `http://127.0.0.1:${hostPort}/index.html`;
    // Fetched from this process: Debian's busybox wget crashes with -T.
    let got = await fetchText(url);
    for (let i = 0; i < 20 && got.error; i++) {
      await new Promise((r) => setTimeout(r, 100)); // httpd starting
      got = await fetchText(url);
    }
    equal(got.text, token, got.error);

    await delPod(bed, id, ns.path);
    const after = await iptablesLines("nat");
    deepEqual(after.filter((l) => l.includes(chain) || l.includes(id)), []);
    // The shared chains stay by design.
    ok(after.includes("-N CNI-HOSTPORT-DNAT"), after.join("\n"));
    const gone = await fetchText(url);
    ok(gone.error, `still forwarded after DEL: ${gone.text}`);
    await bed.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "e2e: the network.alpha.kubernetes.io/network annotation gives pods eth1 on a second bridge",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const main = await bed.addBridgeNetwork({ order: "10" });
    const side = await bed.addBridgeNetwork({ order: "20" });
    await using a = await createNetns("csa");
    await using b = await createNetns("csb");
    const ids = [containerId("a"), containerId("b")] as const;
    const annotations = JSON.stringify({
      "network.alpha.kubernetes.io/network": JSON.stringify({
        name: side.name,
      }),
    });
    const outA = await addPod(bed, ids[0], a, ["--annotations", annotations]);
    await addPod(bed, ids[1], b, ["--annotations", annotations]);
    deepEqual(outA.networks.map((n) => [n.name, n.interface]), [
      [main.name, "eth0"],
      [side.name, "eth1"],
    ]);
    equal(outA.primaryIP, `${main.subnet.base}.2`);
    deepEqual(
      outA.ips.map((i) => [i.network, i.interface, i.address]),
      [
        [main.name, "eth0", `${main.subnet.base}.2/24`],
        [side.name, "eth1", `${side.subnet.base}.2/24`],
      ],
    );
    deepEqual(await addressesIn(a, "eth0"), [`${main.subnet.base}.2/24`]);
    deepEqual(await addressesIn(a, "eth1"), [`${side.subnet.base}.2/24`]);
    deepEqual(await addressesIn(b, "eth1"), [`${side.subnet.base}.3/24`]);
    equal((await bridgePorts(main.bridge)).length, 2);
    equal((await bridgePorts(side.bridge)).length, 2);
    await ping(a, `${side.subnet.base}.3`);
    await ping(b, `${main.subnet.base}.2`);

    const del = await delPod(bed, ids[0], a.path);
    deepEqual(del.removed, [
      { network: side.name, interface: "eth1" },
      { network: main.name, interface: "eth0" },
      { network: "cni-loopback", interface: "lo" },
    ]);
    deepEqual(await linksIn(a), ["lo"]);
    await delPod(bed, ids[1], b.path);
    await bed.assertNoLeaks(ids);
  },
});

Deno.test({
  name:
    "e2e: when the second network fails (an IPAM range with no free address), the first is torn down and nothing is left",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    await using bed = await TestBed.create();
    const main = await bed.addBridgeNetwork({ order: "10" });
    // Valid for host-local (so DEL works), but the only address in the
    // range is the gateway's, which host-local never hands out.
    const side = await bed.addBridgeNetwork({
      order: "20",
      ipam: (subnet, dataDir) => ({
        type: "host-local",
        ranges: [[{
          subnet: subnet.cidr,
          rangeStart: subnet.gateway,
          rangeEnd: subnet.gateway,
        }]],
        dataDir,
      }),
    });
    for (const mode of ["parallel", "serial"] as const) {
      await t.step(mode, async () => {
        await using ns = await createNetns("csf");
        const id = containerId("f");
        const run = await bed.cli([
          "add",
          id,
          ns.path,
          "--annotations",
          JSON.stringify({ "k8s.v1.cni.cncf.io/networks": side.name }),
          ...(mode === "serial" ? ["--serial"] : []),
        ]);
        equal(run.code, 1, explain(run));
        const error = run.json<{ code: number; msg: string }>();
        match(error.msg, /no IP addresses available/);
        match(run.stderr, /CNI error code \d+\)\n/);
        deepEqual(await linksIn(ns), ["lo"]);
        deepEqual(await ipamAllocations(`${bed.dataDir}/${main.name}`), []);
        deepEqual(await ipamAllocations(`${bed.dataDir}/${side.name}`), []);
        await bed.assertNoLeaks([id]);
      });
    }
  },
});

Deno.test({
  name:
    "e2e: a network whose config the plugins cannot parse: the others are torn down, its cache entry stays for a retry",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const main = await bed.addBridgeNetwork({ order: "10" });
    const side = await bed.addBridgeNetwork({
      order: "20",
      ipam: (_subnet, dataDir) => ({
        type: "host-local",
        ranges: [[{ subnet: "10.244.300.0/24" }]],
        dataDir,
      }),
    });
    await using ns = await createNetns("csf");
    const id = containerId("bad");
    const run = await bed.cli([
      "add",
      id,
      ns.path,
      "--annotations",
      JSON.stringify({ "k8s.v1.cni.cncf.io/networks": side.name }),
    ]);
    equal(run.code, 1, explain(run));
    match(run.json<{ msg: string }>().msg, /10\.244\.300\.0\/24/);
    deepEqual(await linksIn(ns), ["lo"]);
    // The bridge plugin's DEL fails on the same CIDR, so that attachment
    // stays cached (libcni keeps what a failed DEL did not remove); the
    // default network and everything on the host are gone.
    deepEqual(await bed.leaks([id]), {
      veths: [],
      ipam: [],
      cache: [`${side.name}-${id}-eth1`],
      iptables: [],
      podRecords: [`${id}.json`],
      // The container still has state, so its lock file stays with it.
      locks: [`${id}.lock`],
    });
    equal(
      await ipamAllocations(`${bed.dataDir}/${main.name}`).then((f) =>
        f.length
      ),
      0,
    );
  },
});

Deno.test({
  name:
    "e2e: DEL after the namespace was deleted succeeds and frees the address",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork({ portmap: true });
    await using ns = await createNetns("csg");
    const id = containerId("gone");
    const out = await addPod(bed, id, ns, [
      "--port-mappings",
      JSON.stringify([{
        protocol: 1,
        container_port: 53,
        host_port: 20000 + Math.floor(Math.random() * 10000),
      }]),
    ]);
    equal(out.primaryIP, `${net.subnet.base}.2`);
    deepEqual(await ipamAllocations(`${bed.dataDir}/${net.name}`), [
      `${net.subnet.base}.2`,
    ]);
    ok(
      (await iptablesLines("nat")).some((l) => l.includes(id)),
      "portmap rule present",
    );

    const deleted = await sh(["ip", "netns", "del", ns.name]);
    equal(deleted.code, 0, deleted.stderr);
    const del = await delPod(bed, id, ns.path);
    deepEqual(del.removed.map((r) => r.network), [net.name, "cni-loopback"]);
    deepEqual(await ipamAllocations(`${bed.dataDir}/${net.name}`), []);
    await bed.assertNoLeaks([id]);
  },
});

Deno.test({
  name:
    "e2e: DEL after the conf file was changed or removed still removes everything (driven by the cache)",
  ignore: SKIP_REAL_PARTS,
  async fn(t) {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork({ portmap: true });
    const ids: string[] = [];
    const ports = JSON.stringify([{
      protocol: 0,
      container_port: 80,
      host_port: 20000 + Math.floor(Math.random() * 10000),
    }]);

    await t.step("changed: another bridge, subnet and dataDir", async () => {
      await using ns = await createNetns("csc");
      const id = containerId("chg");
      ids.push(id);
      await addPod(bed, id, ns, ["--port-mappings", ports]);
      const other = `cs${randomHex(4)}`;
      bed.deleteOnDispose(other);
      await Deno.writeTextFile(
        net.file,
        JSON.stringify({
          cniVersion: "1.0.0",
          name: net.name,
          plugins: [{
            type: "bridge",
            bridge: other,
            ipMasq: false,
            ipam: {
              type: "host-local",
              ranges: [[{ subnet: "10.244.99.0/24" }]],
              dataDir: `${bed.root}/other-ipam`,
            },
          }],
        }),
      );
      // Read from today's conf, DEL would free nothing in the real dataDir
      // and leave the portmap chain (the new conf has no portmap).
      await delPod(bed, id, ns.path);
      deepEqual(await ipamAllocations(`${bed.dataDir}/${net.name}`), []);
      deepEqual(await linksIn(ns), ["lo"]);
      await bed.assertNoLeaks([id]);
    });

    await t.step("removed", async () => {
      await Deno.writeTextFile(net.file, JSON.stringify(net.conflist));
      await using ns = await createNetns("csr");
      const id = containerId("rm");
      ids.push(id);
      await addPod(bed, id, ns, ["--port-mappings", ports]);
      await Deno.remove(net.file);
      const networks = await bed.cli(["networks"]);
      equal(networks.json<{ networks: unknown[] }>().networks.length, 0);
      await delPod(bed, id, ns.path);
      deepEqual(await linksIn(ns), ["lo"]);
      await bed.assertNoLeaks([id]);
    });
    await bed.assertNoLeaks(ids);
  },
});

Deno.test({
  name:
    "e2e: 20 pods added and deleted by 20 concurrent CLI processes leave the host as it was",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    const N = 20;
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork();
    await using stack = new AsyncDisposableStack();
    const pods: { id: string; ns: Netns }[] = [];
    for (let i = 0; i < N; i++) {
      pods.push({
        id: containerId(`p${i}`),
        ns: stack.use(await createNetns("csn")),
      });
    }
    const ids = pods.map((p) => p.id);

    const adds = await Promise.all(
      pods.map((p) => bed.cli(["add", p.id, p.ns.path])),
    );
    adds.forEach((r, i) => equal(r.code, 0, `pod ${i}: ${explain(r)}`));
    const ips = adds.map((r) => r.json<AddOutput>().primaryIP!);
    deepEqual(
      [...ips].sort(),
      Array.from({ length: N }, (_, i) => `${net.subnet.base}.${i + 2}`)
        .sort(),
      "every pod got its own address from the range's start",
    );
    for (const [i, p] of pods.entries()) {
      deepEqual(await addressesIn(p.ns, "eth0"), [`${ips[i]}/24`], p.id);
    }
    equal((await bridgePorts(net.bridge)).length, N);
    equal((await ipamAllocations(`${bed.dataDir}/${net.name}`)).length, N);
    await ping(pods[0]!.ns, ips[N - 1]!);
    await ping(pods[N - 1]!.ns, ips[0]!);

    const dels = await Promise.all(
      pods.map((p) => bed.cli(["del", p.id, p.ns.path])),
    );
    dels.forEach((r, i) => equal(r.code, 0, `pod ${i}: ${explain(r)}`));
    for (const p of pods) deepEqual(await linksIn(p.ns), ["lo"], p.id);
    await bed.assertNoLeaks(ids);
  },
});
