/**
 * Network namespaces and links: a namespace fixture (`AsyncDisposable`,
 * so `await using` removes it even after a failed assertion) and what a
 * test reads of the links in and around it.
 *
 * @module
 */
import { mustSh, type Output, randomHex, sh } from "./shell.ts";

/** A network namespace under `/var/run/netns`. */
export interface Netns extends AsyncDisposable {
  /** The name `ip netns` knows it by. */
  readonly name: string;
  /** `/var/run/netns/<name>`. */
  readonly path: string;
  /** Runs `cmd` inside the namespace (`ip netns exec`). */
  exec(cmd: readonly string[]): Promise<Output>;
}

/** Whether a link of that name exists on the host. */
export async function linkExists(name: string): Promise<boolean> {
  return (await sh(["ip", "link", "show", "dev", name])).code === 0;
}

/**
 * Pings `ip` once from inside `from`, failing with ping's output when no
 * answer comes within 2 s. Every test pings with busybox's ping: busybox-static
 * is a real part already, and a bare Debian root has no other ping.
 */
export async function ping(from: Netns, ip: string): Promise<void> {
  const out = await from.exec(["busybox", "ping", "-c", "1", "-W", "2", ip]);
  if (out.code !== 0) {
    throw new Error(
      `ping ${ip} from ${from.name} failed (exit ${out.code}): ${out.stdout}${out.stderr}`,
    );
  }
}

/** Link names inside a namespace. */
export async function linksIn(ns: Pick<Netns, "name">): Promise<string[]> {
  const out = await sh(["ip", "-n", ns.name, "-j", "link", "show"]);
  if (out.code !== 0) throw new Error(out.stderr);
  return (JSON.parse(out.stdout) as { ifname: string }[]).map((l) => l.ifname)
    .sort();
}

/** `addr/prefix` of the IPv4 addresses on a link inside a namespace. */
export async function addressesIn(ns: Netns, link: string): Promise<string[]> {
  const out = await sh([
    "ip",
    "-n",
    ns.name,
    "-j",
    "-4",
    "addr",
    "show",
    "dev",
    link,
  ]);
  if (out.code !== 0) return [];
  return (JSON.parse(out.stdout) as {
    addr_info: { local: string; prefixlen: number }[];
  }[]).flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

/**
 * The IPv4 address on a container's `eth0`, read with busybox's `ip` run
 * by `exec` inside the container (`runc exec`, `podman exec`, …) as
 * `<ip> -4 -o addr show dev eth0`; `ip` is the path of the applet.
 */
export async function containerIpv4(
  exec: (argv: string[]) => Promise<string>,
  ip: string[],
): Promise<string> {
  const out = await exec([...ip, "-4", "-o", "addr", "show", "dev", "eth0"]);
  const m = out.match(/inet (\d+\.\d+\.\d+\.\d+)\/\d+/);
  if (!m) throw new Error(`no IPv4 address on eth0: ${out}`);
  return m[1]!;
}

/**
 * Pings `ip` twice from inside a container with busybox's ping, run by
 * `exec` as `containerIpv4` does (which throws when the command fails), and
 * checks that both answers came.
 */
export async function containerPing(
  exec: (argv: string[]) => Promise<string>,
  ip: string,
): Promise<void> {
  const out = await exec(["/bin/busybox", "ping", "-c", "2", "-W", "2", ip]);
  if (!/2 packets received/.test(out)) {
    throw new Error(`ping ${ip} from the container lost packets: ${out}`);
  }
}

/** Deletes a host link; a link already gone is fine. */
export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await sh(["ip", "link", "del", "dev", name]);
}

/**
 * Creates a fresh network namespace `<prefix>-<8 hex>`; disposing deletes
 * it (a namespace already deleted by the test is fine).
 */
export async function createNetns(prefix = "cs"): Promise<Netns> {
  const name = `${prefix}-${randomHex(8)}`;
  await mustSh(["ip", "netns", "add", name]);
  const path = `/var/run/netns/${name}`;
  return {
    name,
    path,
    exec: (cmd) => sh(["ip", "netns", "exec", name, ...cmd]),
    async [Symbol.asyncDispose]() {
      try {
        await Deno.stat(path);
      } catch {
        return;
      }
      // Processes the test started in the namespace (a server, say).
      const pids = await sh(["ip", "netns", "pids", name]);
      for (const pid of pids.stdout.split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await sh(["ip", "netns", "del", name]);
    },
  };
}

/** The veths enslaved to `bridge` (none when the bridge does not exist). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const out = await sh(["ip", "-j", "link", "show", "master", bridge]);
  if (out.code !== 0 || !out.stdout.trim()) return [];
  return (JSON.parse(out.stdout) as { ifname: string }[]).map((l) => l.ifname);
}
