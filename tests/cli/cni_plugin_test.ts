/**
 * cnishim as a runtime's one CNI plugin (`"type": "cnishim"`), exec'd as a
 * runtime execs it (the packaged forwarder, clear environment, the config
 * on stdin), over fake plugins in real network namespaces: every verb,
 * key, default and bad input of the interface, and the thick mode's
 * fallback when its server goes away.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { createNetns, type Netns } from "../_helpers/netns.ts";
import {
  buildForwarder,
  execPlugin,
  installFrontEndPlugin,
  type PluginRun,
} from "../_helpers/front_end_plugin.ts";
import { listFiles } from "../_helpers/shell.ts";
import { runCli } from "../_helpers/run_cli.ts";
import { startServe } from "../serve/_serve.ts";
import { frontEndSettings } from "../../src/cli/cni_plugin.ts";

const IS_ROOT = Deno.uid() === 0;
const ignore = !IS_ROOT;

/** A bed: fake plugins, the runtime's conf dir with cnishim first, a netns. */
interface Bed extends AsyncDisposable {
  fake: FakePlugins;
  conf: string;
  cache: string;
  settings: string;
  plugin: string;
  ns: Netns;
  /** The plugin config as the runtime's libcni hands it over. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  /** One exec of the plugin. */
  run(
    command: string,
    opts?: {
      id?: string;
      netns?: string;
      ifName?: string;
      args?: string;
      config?: Record<string, unknown>;
    },
  ): Promise<PluginRun>;
}

const CAPS = {
  portMappings: true,
  bandwidth: true,
  ips: true,
  mac: true,
  dns: true,
  "io.kubernetes.cri.pod-annotations": true,
};

async function bed(
  opts: { socket?: string; cniVersion?: string } = {},
): Promise<Bed> {
  const fake = await FakePlugins.create(["fake-a", "fake-b"]);
  const conf = join(fake.root, "net.d");
  await Deno.mkdir(conf);
  const cache = join(fake.root, "cnishim-cache");
  const settings = join(fake.root, "config.json");
  await Deno.writeTextFile(settings, "{}");
  const version = opts.cniVersion ?? "1.0.0";
  const self = {
    cniVersion: version,
    name: "cnishim",
    plugins: [{
      type: "cnishim",
      confDir: conf,
      binDir: fake.binDir,
      cacheDir: cache,
      config: settings,
      ...(opts.socket ? { socket: opts.socket } : {}),
      capabilities: CAPS,
    }],
  };
  await Deno.writeTextFile(
    join(conf, "00-cnishim.conflist"),
    JSON.stringify(self),
  );
  await Deno.writeTextFile(
    join(conf, "10-primary.conflist"),
    JSON.stringify({
      cniVersion: "1.1.0",
      name: "primary",
      plugins: [{ type: "fake-a", capabilities: { portMappings: true } }],
    }),
  );
  await Deno.writeTextFile(
    join(conf, "20-side.conflist"),
    JSON.stringify({
      cniVersion: "1.1.0",
      name: "side",
      plugins: [{
        type: "fake-b",
        capabilities: { "io.kubernetes.cri.pod-annotations": true },
      }],
    }),
  );
  await fake.answer("fake-a", "ADD", {
    stdout: {
      cniVersion: "1.0.0",
      interfaces: [{ name: "eth0", sandbox: "/x" }],
      ips: [{ address: "10.77.0.5/24", gateway: "10.77.0.1", interface: 0 }],
    },
  });
  const plugin = await installFrontEndPlugin(
    fake.binDir,
    opts.socket ?? join(fake.root, "no-server.sock"),
  );
  const ns = await createNetns("cnp");
  const config = (extra: Record<string, unknown> = {}) => {
    const { plugins: [p], ...top } = self;
    return { ...top, ...p, ...extra };
  };
  return {
    fake,
    conf,
    cache,
    settings,
    plugin,
    ns,
    config,
    run: (command, o = {}) =>
      execPlugin(plugin, {
        CNI_COMMAND: command,
        CNI_CONTAINERID: o.id ?? "pod1",
        CNI_NETNS: o.netns ?? ns.path,
        CNI_IFNAME: o.ifName ?? "eth0",
        CNI_ARGS: o.args ??
          "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=u1",
        CNI_PATH: fake.binDir,
      }, JSON.stringify(o.config ?? config())),
    async [Symbol.asyncDispose]() {
      await ns[Symbol.asyncDispose]();
      await fake[Symbol.asyncDispose]();
    },
  };
}

function ok0(run: PluginRun, what: string): void {
  equal(run.code, 0, `${what}: ${run.stdout} ${run.stderr}`);
}

function cniError(run: PluginRun, code: number, mention: string): void {
  equal(run.code, 1, `${run.stdout} ${run.stderr}`);
  const err = JSON.parse(run.stdout);
  equal(err.code, code, run.stdout);
  ok(String(err.msg).includes(mention), `${err.msg} lacks ${mention}`);
}

async function commands(fake: FakePlugins): Promise<string[]> {
  return (await fake.calls()).map((c) => `${c.type} ${c.command}`);
}

Deno.test({
  name: "cnishim plugin: ADD, CHECK, DEL through the runtime's first conflist",
  ignore,
  async fn() {
    await using b = await bed();
    const add = await b.run("ADD", {
      config: b.config({
        runtimeConfig: {
          portMappings: [{
            HostPort: 8080,
            ContainerPort: 80,
            Protocol: "tcp",
            HostIP: "",
          }],
          "io.kubernetes.cri.pod-annotations": { "a": "b" },
        },
      }),
    });
    ok0(add, "ADD");
    const result = JSON.parse(add.stdout);
    equal(result.cniVersion, "1.0.0");
    deepEqual(result.ips.map((i: { address: string }) => i.address), [
      "10.77.0.5/24",
    ]);
    const calls = await b.fake.calls();
    deepEqual(calls.map((c) => `${c.type} ${c.command}`), ["fake-a ADD"]);
    const a = calls[0]!;
    equal(a.env.CNI_IFNAME, "eth0");
    equal(a.env.CNI_NETNS, b.ns.path);
    equal(
      a.env.CNI_ARGS,
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=u1",
    );
    deepEqual(
      (a.stdin.runtimeConfig as { portMappings: unknown }).portMappings,
      [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    );
    // CHECK with the result the runtime got.
    const chk = await b.run("CHECK", {
      config: b.config({ prevResult: result }),
    });
    ok0(chk, "CHECK");
    deepEqual((await commands(b.fake)).slice(1), ["fake-a CHECK"]);
    // A prevResult with other addresses is code 7.
    const wrong = await b.run("CHECK", {
      config: b.config({
        prevResult: { ...result, ips: [{ address: "10.77.0.9/24" }] },
      }),
    });
    cniError(wrong, 7, "10.77.0.9/24");
    // DEL twice, the second with no netns and no runtimeConfig.
    ok0(await b.run("DEL"), "DEL");
    ok0(await b.run("DEL", { netns: "" }), "second DEL");
    deepEqual((await commands(b.fake)).slice(2), ["fake-a DEL"]);
    // What stays by design: the GC lock.
    deepEqual(await listFiles(b.cache), ["locks/gc.lock"]);
  },
});

const ALL_VERSIONS = [
  "0.1.0",
  "0.2.0",
  "0.3.0",
  "0.3.1",
  "0.4.0",
  "1.0.0",
  "1.1.0",
];

Deno.test({
  name: "cnishim plugin: VERSION answers 0.1.0 to 1.1.0",
  ignore,
  async fn() {
    await using b = await bed();
    const run = await b.run("VERSION");
    ok0(run, "VERSION");
    deepEqual(JSON.parse(run.stdout).supportedVersions, ALL_VERSIONS);
  },
});

Deno.test({
  name: "cnishim plugin: unknown keys are code 7 naming them, nothing runs",
  ignore,
  async fn() {
    await using b = await bed();
    const run = await b.run("ADD", {
      config: b.config({ cniConfDir: "/x", master: "eth0" }),
    });
    cniError(run, 7, `"cniConfDir", "master"`);
    deepEqual(await b.fake.calls(), []);
  },
});

Deno.test({
  name: "cnishim plugin: bad values name the key",
  ignore,
  async fn() {
    await using b = await bed();
    cniError(
      await b.run("ADD", { config: b.config({ confDir: "relative/dir" }) }),
      7,
      `"confDir"`,
    );
    cniError(
      await b.run("ADD", { config: b.config({ serial: "yes" }) }),
      7,
      `"serial"`,
    );
    cniError(
      await b.run("ADD", { config: b.config({ timeout: "soon" }) }),
      7,
      `"timeout" in the cnishim plugin config`,
    );
    deepEqual(await b.fake.calls(), []);
  },
});

Deno.test("cnishim plugin keys: defaults from the settings file, its own cache tree", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cnishim-fe-" });
  try {
    const file = join(dir, "config.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        "cni-conf-dir": "/etc/x/net.d",
        "cni-bin-dir": "/opt/x/bin",
        "cni-cache-dir": "/var/lib/cni",
        timeout: "7s",
      }),
    );
    const base = { cniVersion: "1.0.0", name: "cnishim", type: "cnishim" };
    const d = await frontEndSettings({ ...base, config: file }, {});
    equal(d.settings.confDir, "/etc/x/net.d");
    deepEqual(d.settings.binDirs, ["/opt/x/bin"]);
    // Never the settings' cache dir, which is libcni's (the runtime's).
    equal(d.settings.cacheDir, "/var/lib/cni/cnishim");
    equal(d.settings.timeoutMs, 7000);
    equal(d.socket, undefined);
    const k = await frontEndSettings({
      ...base,
      config: file,
      confDir: "/c",
      binDir: ["/b1", "/b2"],
      cacheDir: "/k",
      timeout: 3,
      delTimeout: "500ms",
      serial: true,
      logLevel: "debug",
      socket: "/run/s.sock",
    }, {});
    equal(k.settings.confDir, "/c");
    deepEqual(k.settings.binDirs, ["/b1", "/b2"]);
    equal(k.settings.cacheDir, "/k");
    equal(k.settings.timeoutMs, 3000);
    equal(k.settings.delTimeoutMs, 500);
    equal(k.settings.serial, true);
    equal(k.settings.logLevel, "debug");
    equal(k.socket, "/run/s.sock");
    // Absent settings file = defaults.
    const none = await frontEndSettings({
      ...base,
      config: join(dir, "missing.json"),
    }, {}).catch((e) => e as Error);
    ok(none instanceof Error && /missing\.json/.test(none.message));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "cnishim plugin: confDir defaults to the settings' cni-conf-dir",
  ignore,
  async fn() {
    await using b = await bed();
    await Deno.writeTextFile(
      b.settings,
      JSON.stringify({ "cni-conf-dir": b.conf, "cni-bin-dir": b.fake.binDir }),
    );
    const { confDir: _c, binDir: _b, ...rest } = b.config();
    ok0(await b.run("ADD", { config: rest }), "ADD");
    deepEqual(await commands(b.fake), ["fake-a ADD"]);
    ok0(await b.run("DEL", { config: rest }), "DEL");
  },
});

Deno.test({
  name:
    "cnishim plugin: a missing confDir is code 11 naming it (ADD), 50 (STATUS)",
  ignore,
  async fn() {
    await using b = await bed({ cniVersion: "1.1.0" });
    const gone = join(b.fake.root, "no-such-net.d");
    cniError(
      await b.run("ADD", { config: b.config({ confDir: gone }) }),
      11,
      gone,
    );
    cniError(
      await b.run("STATUS", { config: b.config({ confDir: gone }) }),
      50,
      gone,
    );
    deepEqual(await b.fake.calls(), []);
  },
});

Deno.test({
  name:
    "cnishim plugin: no default network when confDir holds only cnishim's own file; networks shows why",
  ignore,
  async fn() {
    await using b = await bed({ cniVersion: "1.1.0" });
    await Deno.remove(join(b.conf, "10-primary.conflist"));
    await Deno.remove(join(b.conf, "20-side.conflist"));
    const add = await b.run("ADD");
    cniError(add, 11, "no valid network config");
    ok(JSON.parse(add.stdout).msg.includes("runs cnishim itself"), add.stdout);
    cniError(await b.run("STATUS"), 50, "no valid network config");
    deepEqual(await b.fake.calls(), []);
    deepEqual(await listFiles(join(b.cache, "results")), []);
  },
});

Deno.test({
  name:
    "cnishim plugin: recursion skipped, the next valid file is the default network",
  ignore,
  async fn() {
    await using b = await bed({ cniVersion: "1.1.0" });
    const run = await runCli([
      "networks",
      "--cni-conf-dir",
      b.conf,
      "--config",
      b.settings,
    ]);
    equal(run.code, 0, run.stderr);
    const out = run.json<{
      defaultNetwork: string;
      skipped: { file: string; reason: string }[];
    }>();
    equal(out.defaultNetwork, "primary");
    equal(out.skipped.length, 1);
    ok(out.skipped[0]!.file.endsWith("00-cnishim.conflist"));
    ok(out.skipped[0]!.reason.includes("runs cnishim itself"));
    ok(run.stderr.includes("skipped"), run.stderr);
    ok0(await b.run("STATUS"), "STATUS");
  },
});

Deno.test({
  name:
    "cnishim plugin: annotations attach extra networks; an unknown one is code 7 with nothing left",
  ignore,
  async fn() {
    await using b = await bed();
    const annotated = (value: string) =>
      b.config({
        runtimeConfig: {
          "io.kubernetes.cri.pod-annotations": {
            "network.alpha.kubernetes.io/network": value,
          },
        },
      });
    const bad = await b.run("ADD", {
      config: annotated(JSON.stringify({ name: "nope", interface: "eth1" })),
    });
    cniError(bad, 7, `"nope"`);
    deepEqual(await b.fake.calls(), []);
    deepEqual(await listFiles(join(b.cache, "results")), []);
    const add = await b.run("ADD", {
      config: annotated(JSON.stringify({ name: "side", interface: "eth1" })),
    });
    ok0(add, "ADD");
    const calls = await b.fake.calls();
    deepEqual(
      calls.map((c) => `${c.type} ${c.command} ${c.env.CNI_IFNAME}`).sort(),
      ["fake-a ADD eth0", "fake-b ADD eth1"],
    );
    // The primary network's result is printed.
    equal(JSON.parse(add.stdout).ips[0].address, "10.77.0.5/24");
    // DEL without runtimeConfig and without netns tears both down.
    ok0(await b.run("DEL", { netns: "" }), "DEL");
    deepEqual(
      (await b.fake.calls()).slice(2).map((c) => `${c.type} ${c.command}`)
        .sort(),
      ["fake-a DEL", "fake-b DEL"],
    );
  },
});

Deno.test({
  name:
    "cnishim plugin: a failing inner network undoes everything and returns its code",
  ignore,
  async fn() {
    await using b = await bed();
    await b.fake.answer("fake-b", "ADD", {
      stdout: { cniVersion: "1.1.0", code: 105, msg: "no more leases" },
      exit: 1,
    });
    const run = await b.run("ADD", {
      config: b.config({
        runtimeConfig: {
          "io.kubernetes.cri.pod-annotations": {
            "k8s.v1.cni.cncf.io/networks": "side",
          },
        },
      }),
    });
    cniError(run, 105, "no more leases");
    const seen = (await commands(b.fake)).sort();
    deepEqual(seen, ["fake-a ADD", "fake-a DEL", "fake-b ADD", "fake-b DEL"]);
    deepEqual(await listFiles(join(b.cache, "results")), []);
    deepEqual(await listFiles(join(b.cache, "cnishim")), []);
  },
});

Deno.test({
  name: "cnishim plugin: the result is converted to the outer cniVersion",
  ignore,
  async fn() {
    await using b = await bed({ cniVersion: "0.3.1" });
    const add = await b.run("ADD");
    ok0(add, "ADD");
    const r = JSON.parse(add.stdout);
    equal(r.cniVersion, "0.3.1");
    deepEqual(r.ips[0], {
      version: "4",
      address: "10.77.0.5/24",
      gateway: "10.77.0.1",
      interface: 0,
    });
    ok0(await b.run("DEL"), "DEL");
  },
});

Deno.test({
  name:
    "cnishim plugin: DEL works after the conf files are gone, of an unknown pod runs nothing, and a failing DEL is an error",
  ignore,
  async fn() {
    await using b = await bed();
    ok0(await b.run("DEL", { id: "never-seen" }), "DEL of an unknown pod");
    deepEqual(await b.fake.calls(), []);
    ok0(await b.run("ADD"), "ADD");
    await Deno.remove(join(b.conf, "10-primary.conflist"));
    await b.fake.answer("fake-a", "DEL", {
      stdout: { cniVersion: "1.1.0", code: 11, msg: "iptables is locked" },
      exit: 1,
    });
    cniError(await b.run("DEL"), 11, "iptables is locked");
    // Still cached: the runtime retries, and the retry tears it down.
    await b.fake.answer("fake-a", "DEL", {});
    ok0(await b.run("DEL", { netns: "" }), "retried DEL");
    deepEqual(await commands(b.fake), [
      "fake-a ADD",
      "fake-a DEL",
      "fake-a DEL",
    ]);
    deepEqual(await listFiles(join(b.cache, "results")), []);
  },
});

Deno.test({
  name: "cnishim plugin: STATUS and GC (1.1.0)",
  ignore,
  async fn() {
    await using b = await bed({ cniVersion: "1.1.0" });
    ok0(await b.run("STATUS"), "STATUS");
    ok0(await b.run("ADD", { id: "pod1" }), "ADD pod1");
    ok0(await b.run("ADD", { id: "pod2" }), "ADD pod2");
    await b.fake.clearCalls();
    const gc = await b.run("GC", {
      config: b.config({
        "cni.dev/valid-attachments": [{ containerID: "pod1", ifname: "eth0" }],
      }),
    });
    ok0(gc, "GC");
    const calls = await b.fake.calls();
    deepEqual(
      calls.map((c) => `${c.type} ${c.command} ${c.env.CNI_CONTAINERID ?? ""}`),
      ["fake-a DEL pod2", "fake-a GC ", "fake-b GC "],
    );
    deepEqual(
      calls.find((c) => c.type === "fake-a" && c.command === "GC")!
        .stdin["cni.dev/valid-attachments"],
      [{
        containerID: "pod1",
        ifname: "eth0",
      }],
    );
    // The older key is honoured too: nothing listed, pod1 goes.
    await b.fake.clearCalls();
    ok0(
      await b.run("GC", { config: b.config({ "cni.dev/attachments": [] }) }),
      "GC",
    );
    ok((await commands(b.fake)).includes("fake-a DEL"));
    deepEqual(await listFiles(join(b.cache, "results")), []);
  },
});

/** `cnishim serve` on the bed's dirs, for the thick mode. */
async function serveFor(b: Bed, socket: string) {
  return await startServe(socket, [
    "--cni-bin-dir",
    b.fake.binDir,
    "--cni-conf-dir",
    b.conf,
    "--cni-cache-dir",
    b.cache,
    "--config",
    b.settings,
  ]);
}

async function servedCni(socket: string): Promise<number> {
  const run = await runCli(["metrics", "--socket", socket]);
  const line = run.stdout.split("\n").find((l) =>
    l.startsWith("cnishim_requests_total") &&
    l.includes('operation="cni"') && l.includes('status="200"')
  );
  return line ? Number(line.split(" ").pop()) : 0;
}

const fallbackLines = (run: PluginRun) =>
  run.stderr.split("\n").filter((l) => l.includes("running it in-process"));

Deno.test({
  name:
    "cnishim plugin, thick: calls go to cnishim serve; with the server stopped mid-test ADD and DEL still complete, once each",
  ignore,
  async fn() {
    const socket = join(
      await Deno.makeTempDir({ prefix: "cnishim-thick-" }),
      "cnishim.sock",
    );
    await using b = await bed({ socket });
    const server = await serveFor(b, socket);
    try {
      const add = await b.run("ADD", { id: "pod1" });
      ok0(add, "served ADD");
      deepEqual(fallbackLines(add), []);
      equal(JSON.parse(add.stdout).ips[0].address, "10.77.0.5/24");
      equal(await servedCni(socket), 1);
      // The forwarder alone: it never starts its program here.
      const alone = await buildForwarder(
        ["/bin/false"],
        socket,
        join(b.fake.root, "cnishim-forwarder-only"),
      );
      const chk = await execPlugin(alone, {
        CNI_COMMAND: "CHECK",
        CNI_CONTAINERID: "pod1",
        CNI_NETNS: b.ns.path,
        CNI_IFNAME: "eth0",
        CNI_PATH: b.fake.binDir,
      }, JSON.stringify(b.config({ prevResult: JSON.parse(add.stdout) })));
      ok0(chk, "CHECK through the forwarder alone");
      equal(await servedCni(socket), 2);
      // A served failure is printed as is, exit 1, not run again here.
      const bad = await b.run("ADD", { id: "pod1" });
      cniError(bad, 4, "already set up");
      deepEqual(fallbackLines(bad), []);
    } finally {
      const exit = await server.stop();
      equal(exit.code, 0, exit.stderr);
    }
    // The server is gone: DEL of the pod it set up, ADD and DEL of a new one.
    const del = await b.run("DEL", { id: "pod1" });
    ok0(del, "DEL with the server gone");
    equal(fallbackLines(del).length, 1, del.stderr);
    const add2 = await b.run("ADD", { id: "pod2" });
    ok0(add2, "ADD with the server gone");
    equal(fallbackLines(add2).length, 1, add2.stderr);
    ok0(await b.run("DEL", { id: "pod2" }), "DEL pod2");
    const calls = await b.fake.calls();
    deepEqual(
      calls.map((c) => `${c.command} ${c.env.CNI_CONTAINERID}`),
      ["ADD pod1", "CHECK pod1", "DEL pod1", "ADD pod2", "DEL pod2"],
    );
    deepEqual(await listFiles(join(b.cache, "results")), []);
    await Deno.remove(join(socket, ".."), { recursive: true });
  },
});

Deno.test({
  name:
    "cnishim plugin, thick: a server that is stopping hands new calls back: they run in-process, once",
  ignore,
  async fn() {
    const socket = join(
      await Deno.makeTempDir({ prefix: "cnishim-thick-" }),
      "cnishim.sock",
    );
    await using b = await bed({ socket });
    await b.fake.answer("fake-a", "ADD", {
      stdout: {
        cniVersion: "1.1.0",
        ips: [{ address: "10.77.0.5/24" }],
      },
      sleep: 3,
    });
    const server = await serveFor(b, socket);
    const slow = b.run("ADD", { id: "pod1" });
    // pod1's ADD is in flight on the server, then the server is told to stop.
    for (let i = 0; i < 200 && (await b.fake.calls()).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const stopped = server.stop();
    await new Promise((r) => setTimeout(r, 200));
    const during = await b.run("ADD", { id: "pod2" });
    ok0(during, "ADD while the server stops");
    equal(fallbackLines(during).length, 1, during.stderr);
    ok0(await slow, "the in-flight ADD");
    equal((await stopped).code, 0);
    ok0(await b.run("DEL", { id: "pod1" }), "DEL pod1");
    ok0(await b.run("DEL", { id: "pod2" }), "DEL pod2");
    deepEqual(
      (await b.fake.calls()).map((c) => `${c.command} ${c.env.CNI_CONTAINERID}`)
        .sort(),
      ["ADD pod1", "ADD pod2", "DEL pod1", "DEL pod2"],
    );
    await Deno.remove(join(socket, ".."), { recursive: true });
  },
});

Deno.test({
  name:
    "cnishim plugin, thick: the server refuses a config whose dirs are not its own",
  ignore,
  async fn() {
    const socket = join(
      await Deno.makeTempDir({ prefix: "cnishim-thick-" }),
      "cnishim.sock",
    );
    await using b = await bed({ socket });
    await using server = await serveFor(b, socket);
    const other = join(b.fake.root, "other-cache");
    const run = await b.run("ADD", { config: b.config({ cacheDir: other }) });
    cniError(run, 7, "disagree");
    deepEqual(await b.fake.calls(), []);
    void server;
    await Deno.remove(join(socket, ".."), { recursive: true });
  },
});
