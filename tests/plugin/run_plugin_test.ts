/**
 * Plugin-mode dispatch in process: VERSION, the type names, and the error
 * object for an unknown type or a bad meta config.
 *
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { runPlugin } from "../../src/plugin/run_plugin.ts";
import type { ProcessIo } from "../../src/spec/types.ts";

async function call(
  env: Record<string, string>,
  stdin: unknown,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: ProcessIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () =>
      Promise.resolve(
        typeof stdin === "string" ? stdin : JSON.stringify(stdin),
      ),
    env: {
      CNI_CONTAINERID: "c1",
      CNI_NETNS: "/x",
      CNI_IFNAME: "eth0",
      CNI_PATH: "/x",
      ...env,
    },
  };
  return { code: await runPlugin(io), stdout, stderr };
}

const IPAM = { type: "dockin-ipam", addresses: [{ address: "10.1.0.5/24" }] };

Deno.test("runPlugin() answers VERSION with 0.1.0 to 1.1.0 without reading stdin", async () => {
  const run = await call({ CNI_COMMAND: "VERSION" }, "not read");
  equal(run.code, 0);
  deepEqual(JSON.parse(run.stdout).supportedVersions, [
    "0.1.0",
    "0.2.0",
    "0.3.0",
    "0.3.1",
    "0.4.0",
    "1.0.0",
    "1.1.0",
  ]);
});

Deno.test("runPlugin() dispatches dockin-ipam and cnishim-static, as type or ipam.type", async () => {
  for (
    const config of [
      { cniVersion: "1.0.0", name: "n", type: "bridge", ipam: IPAM },
      { cniVersion: "1.0.0", name: "n", type: "cnishim-static", ipam: IPAM },
      {
        cniVersion: "1.0.0",
        name: "n",
        type: "macvlan",
        ipam: { ...IPAM, type: "cnishim-static" },
      },
    ]
  ) {
    const run = await call({ CNI_COMMAND: "ADD" }, config);
    equal(run.code, 0, run.stdout);
    deepEqual(JSON.parse(run.stdout).ips, [{ address: "10.1.0.5/24" }]);
    equal(run.stderr, "");
  }
});

Deno.test("runPlugin() refuses an unknown type with code 7 and one error object", async () => {
  const run = await call({ CNI_COMMAND: "ADD" }, {
    cniVersion: "0.4.0",
    name: "n",
    type: "bridge",
    ipam: { type: "host-local" },
  });
  equal(run.code, 1);
  const obj = JSON.parse(run.stdout);
  equal(obj.code, 7);
  equal(obj.cniVersion, "0.4.0");
  match(obj.msg, /Unknown plugin type "bridge"/);
  equal(run.stdout.trim().split("\n").length, 1);
});

Deno.test("runPlugin() meta config errors name the field", async () => {
  for (
    const [field, value] of [
      ["backend", "ftp://x"],
      ["confDir", "relative/dir"],
      ["backendTimeoutMs", -5],
      ["logLevel", 5],
      ["ipamType", "../static"],
    ] as const
  ) {
    const run = await call({
      CNI_COMMAND: "ADD",
      CNI_ARGS: "K8S_POD_NAME=p",
    }, {
      cniVersion: "0.3.1",
      name: "dockin",
      type: "dockin-cni",
      backend: "http://127.0.0.1:1/x",
      [field]: value,
    });
    equal(run.code, 1);
    const obj = JSON.parse(run.stdout);
    equal(obj.code, 7, run.stdout);
    match(obj.msg, new RegExp(`field "${field}"`));
  }
});

Deno.test("runPlugin() refuses CNI_IFNAME whitespace as libcni's skel does (Go's unicode.IsSpace)", async () => {
  const config = { cniVersion: "1.0.0", name: "n", type: "bridge", ipam: IPAM };
  const nel = await call(
    { CNI_COMMAND: "ADD", CNI_IFNAME: "e\u00850" },
    config,
  );
  equal(nel.code, 1);
  equal(JSON.parse(nel.stdout).code, 4);
  match(JSON.parse(nel.stdout).msg, /whitespace/);
  const bom = await call(
    { CNI_COMMAND: "ADD", CNI_IFNAME: "e\ufeff0" },
    config,
  );
  equal(bom.code, 0, bom.stdout);
});
