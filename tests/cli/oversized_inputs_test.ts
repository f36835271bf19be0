/**
 * Pod inputs too big to exec: refused with code 4 before anything is
 * recorded, through the command line and through `cnishim serve` alike
 * (the bound sits in the runtime's pod inputs, where every front end
 * passes); and an entry cached before the bounds, which no DEL can ever
 * replay, reported as such and cleared by `gc --force-drop`.
 *
 * @module
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { bedFor, rawHttp, startServe } from "../serve/_serve.ts";
import {
  MAX_ANNOTATIONS_BYTES,
  MAX_CAPABILITY_ARGS_BYTES,
  MAX_CNI_ARGS_BYTES,
  MAX_POD_NAME_LENGTH,
  MAX_PORT_MAPPINGS,
  translatePodInputs,
} from "../../src/runtime/pod_inputs.ts";
import { writeCacheEntry } from "../../src/cache/result_cache.ts";
import { writePodRecord } from "../../src/runtime/pod_record.ts";
import type { CniError } from "../../src/spec/errors.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
const NETNS = "/proc/self/ns/net";
const BIG_NAME = "p".repeat(128 * 1024);

// Every file under `dir` whose name mentions `id`.
async function filesNaming(dir: string, id: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory) await walk(join(d, e.name));
      else if (e.name.includes(id)) found.push(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

async function assertNothingRecorded(fake: FakePlugins, id: string) {
  deepEqual(await filesNaming(fake.cacheDir, id), [], "no cache file, no lock");
  deepEqual(
    (await fake.calls()).filter((c) => c.command !== "VERSION"),
    [],
    "no plugin ran",
  );
}

Deno.test("each pod input is bounded with code 4, the limits named once", () => {
  const code4 = (
    inputs: Parameters<typeof translatePodInputs>[2],
    re: RegExp,
  ) =>
    throws(
      () => translatePodInputs("c1", "eth0", inputs),
      (e: CniError) => e.code === 4 && re.test(e.message),
    );
  translatePodInputs("c1", "eth0", {
    pod: { name: "n".repeat(MAX_POD_NAME_LENGTH) },
  });
  code4(
    { pod: { name: "n".repeat(MAX_POD_NAME_LENGTH + 1) } },
    /pod name: 254 characters, over the limit of 253/,
  );
  code4({ pod: { namespace: "n".repeat(300) } }, /pod namespace/);
  code4({ pod: { uid: "u".repeat(300) } }, /pod uid/);
  code4(
    { annotations: { big: "a".repeat(MAX_ANNOTATIONS_BYTES) } },
    /annotations: 262147 bytes/,
  );
  code4(
    {
      portMappings: Array.from({ length: MAX_PORT_MAPPINGS + 1 }, () => ({
        hostPort: 80,
        containerPort: 80,
        protocol: "tcp" as const,
      })),
    },
    /portMappings: 1025 port mappings/,
  );
  code4(
    { capabilityArgs: { x: "c".repeat(MAX_CAPABILITY_ARGS_BYTES) } },
    /capability args/,
  );
  code4(
    { args: [["A", "v".repeat(MAX_CNI_ARGS_BYTES)]] },
    /CNI_ARGS: 65538 bytes/,
  );
  code4({ cgroupPath: "/".repeat(5000) }, /cgroupPath/);
});

Deno.test("a 128 KiB pod name is refused with code 4 before anything is recorded, through the CLI and through serve", async (t) => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await t.step("the command line", async () => {
    // Two flags, each under the exec limit of one string: cnishim itself
    // starts, and only the CNI_ARGS it would build are over it.
    const run = await runCli([
      ...bed.flags,
      "add",
      "c-big-cli",
      NETNS,
      "--pod-name",
      BIG_NAME.slice(0, 100 * 1024),
      "--pod-namespace",
      "n".repeat(40 * 1024),
    ]);
    equal(run.code, 1, explain(run));
    const error = run.json<{ code: number; msg: string }>();
    equal(error.code, 4, explain(run));
    match(error.msg, /pod name: 102400 characters, over the limit of 253/);
    await assertNothingRecorded(fake, "c-big-cli");
  });
  await t.step("serve", async () => {
    await using server = await startServe(bed.socket, bed.flags);
    using http = rawHttp(server.socket);
    const res = await http.post(
      "/v1/add",
      JSON.stringify({
        args: ["c-big-serve", NETNS],
        flags: { "pod-name": BIG_NAME },
      }),
    );
    const body = await res.json() as { code: number; msg: string };
    equal(res.headers.get("cnishim-exit-code"), "1");
    equal(body.code, 4, JSON.stringify(body).slice(0, 300));
    match(body.msg, /pod name: 131072 characters, over the limit of 253/);
    await assertNothingRecorded(fake, "c-big-serve");
    equal((await server.stop()).code, 0);
  });
});

Deno.test("an entry cached with args too big to exec: DEL says so and names the way out, gc --force-drop clears it and names what may leak", async () => {
  await using fake = await FakePlugins.create(["a", "loopback"]);
  const bed = await bedFor(fake, [
    { name: "n1", types: ["a"] },
    { name: "n2", types: ["a"] },
  ]);
  const id = "c-wedged";
  // What a cnishim without the bounds cached for a 128 KiB pod name.
  const args: [string, string][] = [
    ["IgnoreUnknown", "1"],
    ["K8S_POD_NAME", BIG_NAME],
  ];
  const config = (name: string) =>
    new TextEncoder().encode(JSON.stringify({
      cniVersion: "1.0.0",
      name,
      plugins: [{ type: "a" }],
    }));
  await writeCacheEntry(fake.cacheDir, {
    containerId: id,
    networkName: "n1",
    ifName: "eth0",
    netns: "/var/run/netns/gone",
    config: config("n1"),
    cniArgs: args,
    capabilityArgs: {},
    result: {
      cniVersion: "1.0.0",
      interfaces: [{ name: "veth9f1" }, {
        name: "eth0",
        sandbox: "/var/run/netns/gone",
      }],
      ips: [{ address: "10.9.0.5/24", interface: 1 }],
    },
  });
  // And a pre-0.8 libcni entry (the bare result) of the same pod, which
  // DEL replays with the pod record's args.
  await Deno.writeTextFile(
    join(fake.cacheDir, "results", `n2-${id}-eth1`),
    JSON.stringify({ cniVersion: "0.3.1", ips: [] }),
  );
  await writePodRecord(fake.cacheDir, {
    containerId: id,
    netns: "/var/run/netns/gone",
    attachments: [{ network: "n1", ifName: "eth0" }, {
      network: "n2",
      ifName: "eth1",
    }],
    args,
    capabilityArgs: {},
  });

  const del = await runCli([...bed.flags, "del", id]);
  equal(del.code, 1, explain(del));
  const error = del.json<{ code: number; msg: string }>();
  match(error.msg, /E2BIG/, explain(del));
  match(error.msg, new RegExp(`cnishim gc --force-drop ${id}`));
  ok((await filesNaming(fake.cacheDir, id)).length >= 2, "still cached");

  const drop = await runCli([...bed.flags, "gc", "--force-drop", id]);
  equal(drop.code, 0, explain(drop));
  const report = drop.json<{
    forceDropped: {
      containerId: string;
      dropped: { network: string; interface: string; ips: string[] }[];
      mayLeak: string[];
    }[];
  }>().forceDropped[0]!;
  equal(report.containerId, id);
  deepEqual(
    report.dropped.map((d) => [d.network, d.interface, d.ips]).sort(),
    [["n1", "eth0", ["10.9.0.5/24"]], ["n2", "eth1", []]],
  );
  match(
    drop.stderr,
    /dropped without DEL: network "n1" \(eth0 in \/var\/run\/netns\/gone\).*veth9f1.*10\.9\.0\.5\/24/,
  );
  match(drop.stderr, /network "n2" \(eth1.*unknown and may remain/);
  deepEqual(
    await filesNaming(fake.cacheDir, id),
    [],
    "no entry, record or lock",
  );
  deepEqual(
    (await fake.calls()).filter((c) => c.command !== "VERSION").map((c) =>
      c.command
    ),
    [],
    "no plugin ran",
  );

  // The container is gone for good: DEL now has nothing to do.
  const again = await runCli([...bed.flags, "del", id]);
  equal(again.code, 0, explain(again));
  deepEqual(await filesNaming(fake.cacheDir, id), []);

  const bad = await runCli([...bed.flags, "gc", "--force-drop", id, "--all"]);
  equal(bad.code, 2, explain(bad));
});
