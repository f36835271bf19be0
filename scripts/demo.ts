// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task demo`, the main job on the embedded defaults in `conf/`: two
 * throwaway network namespaces get pods from the default network (bridge +
 * host-local + portmap + tuning on 10.244.99.0/24, a subnet only the demo
 * uses), reach each other, pass CHECK, are deleted, and the host is put
 * back as it was and compared with a reading taken before (host-local's
 * files, forwarding, /run/netns, iptables). Runs the real command line, the
 * way a runtime does. Cleans up on failure and on Ctrl-C. It keeps only the
 * Debian packages it had to install, and says so.
 *
 * @module
 */
import { installParts } from "./_real_parts.ts";
import { DEMO_PARTS } from "./real_parts.ts";
import {
  hostChanges,
  type HostScope,
  readHostState,
  restoreHostState,
} from "./_host_state.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const CONF = `${ROOT}/conf`;
const BRIDGE = "cnishim0";
const NETWORK = "cnishim";
const SUBNET_PREFIX = "10.244.99.";
const IPAM_DIR = `/var/lib/cni/networks/${NETWORK}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(cmd: string, args: string[]): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function must(cmd: string, args: string[]): Promise<string> {
  const run = await exec(cmd, args);
  if (run.code !== 0) {
    throw new Error(
      `${cmd} ${
        args.join(" ")
      } failed (exit ${run.code}): ${run.stderr.trim()}`,
    );
  }
  return run.stdout;
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

if (Deno.uid() !== 0) {
  console.error(
    "demo: needs root (it creates network namespaces, a bridge and iptables rules); run it as root",
  );
  Deno.exit(1);
}
const parts = await installParts(DEMO_PARTS, "demo");
if (parts.missing.length) {
  console.error(`demo: missing ${parts.missing.join(", ")}`);
  Deno.exit(1);
}

const tag = crypto.randomUUID().slice(0, 8);
const cache = await Deno.makeTempDir({ prefix: "cnishim-demo-cache-" });
const pods = ["a", "b"].map((p) => ({
  id: `cnishim-demo-${p}-${tag}`,
  netns: `cnishim-demo-${p}-${tag}`,
  path: `/run/netns/cnishim-demo-${p}-${tag}`,
  ip: "",
}));
const bridgeExisted = (await exec("ip", ["link", "show", BRIDGE])).code === 0;
const scope: HostScope = {
  dir: IPAM_DIR,
  parents: ["/var/lib/cni", "/var/lib/cni/networks"],
  rule: (line) =>
    line.includes(BRIDGE) || line.includes(SUBNET_PREFIX) ||
    pods.some((p) => line.includes(p.id)),
};
const before = await readHostState(scope);

/** The shim's command line, the one a runtime would run. */
function cnishim(args: string[]): Promise<Run> {
  return exec(Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}/src/main.ts`,
    ...args,
    "--config",
    `${CONF}/config.json`,
    "--cni-conf-dir",
    `${CONF}/net.d`,
    "--cni-cache-dir",
    cache,
  ]);
}

let cleaning: Promise<void> | undefined;
/** Idempotent: DEL is, and the rest checks before it removes. */
function cleanup(): Promise<void> {
  return cleaning ??= (async () => {
    for (const pod of pods) await cnishim(["del", pod.id, pod.path]);
    for (const pod of pods) await exec("ip", ["netns", "del", pod.netns]);
    if (!bridgeExisted) await exec("ip", ["link", "del", BRIDGE]);
    await Deno.remove(cache, { recursive: true }).catch(() => {});
    await restoreHostState(scope, before);
  })();
}

const onSignal = (signal: Deno.Signal) => async () => {
  console.error(`\ndemo: ${signal}, cleaning up`);
  await cleanup();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));

/** What the demo could have left behind, as lines (empty when clean). */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const veths = (await exec("ip", ["-o", "link", "show", "master", BRIDGE]))
    .stdout.trim();
  if (veths) found.push(`veths on ${BRIDGE}: ${veths}`);
  try {
    for await (const e of Deno.readDir(IPAM_DIR)) {
      const text = await Deno.readTextFile(`${IPAM_DIR}/${e.name}`).catch(
        () => "",
      );
      if (pods.some((p) => text.startsWith(p.id))) {
        found.push(`host-local allocation ${IPAM_DIR}/${e.name}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for await (const e of walk(cache)) found.push(`cache file ${e}`);
  return found;
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    // The GC lock is one file for the node, kept on purpose.
    if (e.isDirectory) yield* walk(path);
    else if (path !== `${cache}/locks/gc.lock`) yield path;
  }
}

try {
  step(`cnishim networks (conf dir ${CONF}/net.d)`);
  const networks = await cnishim(["networks"]);
  if (networks.code !== 0) throw new Error(networks.stderr);
  console.log(networks.stdout.trim());

  step("two throwaway network namespaces");
  for (const pod of pods) {
    await must("ip", ["netns", "add", pod.netns]);
    console.log(`  ${pod.path}`);
  }

  step("cnishim add, one per pod");
  for (const pod of pods) {
    const add = await cnishim(["add", pod.id, pod.path]);
    if (add.code !== 0) {
      throw new Error(`add ${pod.id} failed: ${add.stdout}${add.stderr}`);
    }
    const out = JSON.parse(add.stdout) as { primaryIP: string };
    pod.ip = out.primaryIP;
    const eth0 = await must("ip", [
      "netns",
      "exec",
      pod.netns,
      "ip",
      "-4",
      "-br",
      "addr",
      "show",
      "dev",
      "eth0",
    ]);
    console.log(
      `  ${pod.id}: primaryIP ${pod.ip}; in the netns: ${eth0.trim()}`,
    );
  }

  step("the pods reach each other (ping across the bridge)");
  const [a, b] = [pods[0]!, pods[1]!];
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const ping = await must("ip", [
      "netns",
      "exec",
      from.netns,
      "busybox",
      "ping",
      "-c",
      "2",
      "-W",
      "2",
      to.ip,
    ]);
    console.log(`  ${from.ip} -> ${to.ip}: ${ping.trim().split("\n").at(-1)}`);
  }

  step("cnishim check");
  for (const pod of pods) {
    const check = await cnishim(["check", pod.id, pod.path]);
    if (check.code !== 0) {
      throw new Error(`check ${pod.id} failed: ${check.stdout}${check.stderr}`);
    }
    console.log(`  ${pod.id}: ${check.stdout.replace(/\s+/g, " ").trim()}`);
  }

  step("cnishim del");
  for (const pod of pods) {
    const del = await cnishim(["del", pod.id, pod.path]);
    if (del.code !== 0) {
      throw new Error(`del ${pod.id} failed: ${del.stdout}${del.stderr}`);
    }
    console.log(`  ${pod.id}: ${del.stdout.replace(/\s+/g, " ").trim()}`);
  }

  step("nothing is left");
  const left = await leftovers();
  if (left.length) throw new Error(`left behind:\n  ${left.join("\n  ")}`);
  console.log(
    `  no veth on ${BRIDGE}, no host-local allocation in ${IPAM_DIR}, no cache entry`,
  );
  await cleanup();
  const changes = hostChanges(before, await readHostState(scope));
  if (changes.length) {
    throw new Error(
      `the host differs from before the demo:\n  ${changes.join("\n  ")}`,
    );
  }
  console.log(
    `  namespaces deleted${
      bridgeExisted ? "" : `, bridge ${BRIDGE} deleted`
    }; host-local's files in ${IPAM_DIR}, IPv4/IPv6 forwarding and /run/netns as before the demo; no iptables rule names ${BRIDGE}, ${SUBNET_PREFIX}0/24 or the pods`,
  );
  console.log(
    parts.installed.length
      ? `  kept: the Debian packages this run installed (${
        parts.installed.join(" ")
      }); 'apt-get purge ${parts.installed.join(" ")}' removes them`
      : "  kept: nothing (every Debian package the demo needs was already installed)",
  );
  console.log("\ndemo: ok");
} catch (error) {
  console.error(`\ndemo: FAILED: ${(error as Error).message}`);
  await cleanup();
  Deno.exit(1);
}
Deno.exit(0);
