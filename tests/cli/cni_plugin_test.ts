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
  execPlugin,
  installFrontEndPlugin,
  type PluginRun,
} from "../_helpers/front_end_plugin.ts";
import { listFiles } from "../_helpers/shell.ts";

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
      cniVersion: "1.0.0",
      name: "primary",
      plugins: [{ type: "fake-a", capabilities: { portMappings: true } }],
    }),
  );
  await Deno.writeTextFile(
    join(conf, "20-side.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
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
