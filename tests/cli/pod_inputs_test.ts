/**
 * The per-pod flags as plugins see them: CNI_ARGS, capability args,
 * annotations from a file.
 *
 * The real entry (or the artifact in `CNISHIM_ARTIFACT`) run as a child,
 * against fake plugins that record every call. No root needed.
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { confFor, NETNS, plugins, trace } from "./_cli_bed.ts";

Deno.test("cnishim add builds CNI_ARGS from the pod flags in ocicni's fixed order", async () => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: plugins("a"),
  }]);
  const run = await runCli([
    "add",
    "cid-args",
    NETNS,
    "--pod-uid",
    "uid-123",
    "--pod-name",
    "web-0",
    "--pod-namespace",
    "prod",
    "--args",
    "EXTRA=1",
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  const calls = await fake.calls();
  // Networks (loopback too) attach in parallel: no order between them.
  deepEqual(trace(calls).sort(), ["a ADD eth0", "loopback ADD lo"]);
  for (const call of calls) {
    equal(
      call.env.CNI_ARGS,
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;" +
        "K8S_POD_INFRA_CONTAINER_ID=cid-args;K8S_POD_UID=uid-123;EXTRA=1",
      call.type,
    );
    equal(call.env.CNI_CONTAINERID, "cid-args");
    equal(call.env.CNI_NETNS, NETNS);
  }
  const out = run.json<{ networks: { name: string; interface: string }[] }>();
  deepEqual(out.networks.map((n) => [n.name, n.interface]), [["n1", "eth0"]]);
  equal((out as Record<string, unknown>).loopback, true);
});

Deno.test("cnishim add turns CRI port mappings into the portMappings runtimeConfig", async () => {
  await using fake = await FakePlugins.create(["a", "pm"]);
  const { flags } = await confFor(fake, [{
    name: "n1",
    plugins: [
      { type: "a" },
      { type: "pm", capabilities: { portMappings: true } },
    ],
  }]);
  const cri = [
    { protocol: 1, container_port: 53, host_port: 5353, host_ip: "127.0.0.1" },
    { protocol: 0, container_port: 80, host_port: 8080 },
    { protocol: 0, container_port: 9090 },
  ];
  const run = await runCli([
    "add",
    "cid-ports",
    NETNS,
    "--port-mappings",
    JSON.stringify(cri),
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  const calls = await fake.calls();
  const pm = calls.find((c) => c.type === "pm" && c.command === "ADD")!;
  deepEqual(pm.stdin.runtimeConfig, {
    portMappings: [
      {
        hostPort: 5353,
        containerPort: 53,
        protocol: "udp",
        hostIP: "127.0.0.1",
      },
      { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    ],
  });
  const a = calls.find((c) => c.type === "a" && c.command === "ADD")!;
  equal(a.stdin.runtimeConfig, undefined, "only capable plugins get it");
});

Deno.test("cnishim add reads --annotations from @file", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const { flags } = await confFor(fake, [
    { name: "main", plugins: plugins("a") },
    { name: "storage", plugins: plugins("b") },
  ]);
  const file = join(fake.root, "annotations.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ "k8s.v1.cni.cncf.io/networks": "storage@net9" }),
  );
  const run = await runCli([
    "add",
    "cid-file",
    NETNS,
    "--annotations",
    `@${file}`,
    ...flags,
  ]);
  equal(run.code, 0, explain(run));
  deepEqual(trace(await fake.calls()).sort(), ["a ADD eth0", "b ADD net9"]);
});
