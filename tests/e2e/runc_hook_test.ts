/**
 * runc end to end: busybox containers whose `createRuntime` and `poststop`
 * hooks run `cnishim hook` (the source, or CNISHIM_ARTIFACT), with Debian's
 * real plugins. runc's state lives in the test's own dir.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { mustSh, randomHex } from "../_helpers/shell.ts";
import { TestBed } from "../_helpers/test_bed.ts";
import { containerIpv4, containerPing } from "../_helpers/netns.ts";
import { baseEnv, cliCommand } from "../_helpers/run_cli.ts";

interface Container {
  id: string;
  bundle: string;
}

/** A bundle with a static busybox as its only file, sleeping as pid 1. */
async function makeBundle(
  bed: TestBed,
  id: string,
  annotations: Record<string, string>,
): Promise<Container> {
  const bundle = `${bed.root}/bundles/${id}`;
  await Deno.mkdir(`${bundle}/rootfs/bin`, { recursive: true });
  await Deno.copyFile("/bin/busybox", `${bundle}/rootfs/bin/busybox`);
  await Deno.chmod(`${bundle}/rootfs/bin/busybox`, 0o755);
  await mustSh(["runc", "spec", "--bundle", bundle]);
  const spec = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
  spec.process.terminal = false;
  spec.process.args = ["/bin/busybox", "sleep", "600"];
  spec.root.readonly = true;
  spec.hostname = id;
  spec.annotations = annotations;
  // A new network namespace (runc's default spec has one; make sure).
  const nss: { type: string }[] = spec.linux.namespaces;
  if (!nss.some((n) => n.type === "network")) nss.push({ type: "network" });
  // busybox ping needs a raw socket.
  for (const set of ["bounding", "effective", "permitted"]) {
    spec.process.capabilities[set].push("CAP_NET_RAW");
  }
  const [cmd, ...lead] = cliCommand();
  const hook = {
    path: cmd,
    args: [cmd, ...lead, "hook", ...bed.globalFlags],
    env: Object.entries(baseEnv()).map(([k, v]) => `${k}=${v}`),
    timeout: 60,
  };
  spec.hooks = { createRuntime: [hook], poststop: [hook] };
  await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(spec));
  return { id, bundle };
}

/** runc with the test's state root; stdio not inherited by the container. */
async function runc(
  bed: TestBed,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const log = `${bed.root}/runc.log`;
  // A created container keeps runc's stdio: pipes would never close.
  const piped = args[0] === "exec" || args[0] === "state";
  const out = await new Deno.Command("runc", {
    args: ["--root", `${bed.root}/runc`, "--log", log, ...args],
    stdin: "null",
    stdout: piped ? "piped" : "null",
    stderr: piped ? "piped" : "null",
  }).output();
  const dec = new TextDecoder();
  let stderr = piped ? dec.decode(out.stderr) : "";
  if (out.code !== 0) {
    stderr += await Deno.readTextFile(log).catch(() => "");
  }
  return {
    code: out.code,
    stdout: piped ? dec.decode(out.stdout) : "",
    stderr,
  };
}

async function mustRunc(bed: TestBed, args: string[]): Promise<string> {
  const run = await runc(bed, args);
  equal(run.code, 0, `runc ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

function containerIp(bed: TestBed, id: string): Promise<string> {
  return containerIpv4(
    (argv) => mustRunc(bed, ["exec", id, ...argv]),
    ["/bin/busybox", "ip"],
  );
}

Deno.test({
  name:
    "e2e runc: createRuntime/poststop hooks give two busybox containers host-local addresses, one pings the other, and runc delete leaves nothing",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork();
    const ids = [`rc-a-${randomHex(4)}`, `rc-b-${randomHex(4)}`];
    const created: string[] = [];
    try {
      for (const [i, id] of ids.entries()) {
        const c = await makeBundle(bed, id, {
          "io.kubernetes.cri.sandbox-name": `pod-${i}`,
          "io.kubernetes.cri.sandbox-namespace": "e2e",
          "io.kubernetes.cri.sandbox-uid": crypto.randomUUID(),
        });
        created.push(id);
        await mustRunc(bed, ["create", "--bundle", c.bundle, id]);
        await mustRunc(bed, ["start", id]);
      }
      const ips = [];
      for (const id of ids) ips.push(await containerIp(bed, id));
      deepEqual(ips, [`${net.subnet.base}.2`, `${net.subnet.base}.3`]);

      // The hook passed the pod's metadata as CNI_ARGS (libcni's cache
      // records them).
      const entry = JSON.parse(
        await Deno.readTextFile(
          `${bed.cacheDir}/results/${net.name}-${ids[0]}-eth0`,
        ),
      );
      deepEqual(entry.cniArgs.slice(0, 4), [
        ["IgnoreUnknown", "1"],
        ["K8S_POD_NAMESPACE", "e2e"],
        ["K8S_POD_NAME", "pod-0"],
        ["K8S_POD_INFRA_CONTAINER_ID", ids[0]],
      ]);

      await containerPing(
        (argv) => mustRunc(bed, ["exec", ids[1]!, ...argv]),
        ips[0]!,
      );

      for (const id of ids) {
        await mustRunc(bed, ["kill", id, "KILL"]);
        // poststop runs on delete, once the container has stopped.
        for (let i = 0; i < 100; i++) {
          const st = await runc(bed, ["state", id]);
          if (st.code !== 0 || st.stdout.includes('"stopped"')) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await mustRunc(bed, ["delete", id]);
        created.splice(created.indexOf(id), 1);
      }
      await bed.assertNoLeaks(ids);
    } finally {
      for (const id of created) await runc(bed, ["delete", "-f", id]);
    }
  },
});

Deno.test({
  name:
    "e2e runc: a hook that fails (unknown annotation network) fails runc create and leaves nothing",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    await bed.addBridgeNetwork();
    const id = `rc-f-${randomHex(4)}`;
    const c = await makeBundle(bed, id, {
      "network.alpha.kubernetes.io/network":
        '{"name":"no-such-network","interface":"eth1"}',
    });
    try {
      const create = await runc(bed, ["create", "--bundle", c.bundle, id]);
      ok(create.code !== 0, "runc create succeeded despite the failing hook");
      match(create.stderr, /no-such-network/);
      await bed.assertNoLeaks([id]);
    } finally {
      await runc(bed, ["delete", "-f", id]);
    }
  },
});
