/**
 * Is a path a network namespace? Checked before a pod is set up, because a
 * plugin given a directory or a plain file fails midway, its rollback fails
 * the same way, and the attachment can then only be deleted by naming a
 * netns that does not exist.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";

// Every namespace file lives on the one internal nsfs mount, so its device
// is that of our own netns link.
const SELF_NETNS = "/proc/self/ns/net";
const NS_LINK = /^([a-z_]+):\[(\d+)\]$/;

/**
 * Refuses `path` unless it is a network namespace: an nsfs bind mount (what
 * `ip netns add` makes) or a `/proc/<pid>/ns/net` link. A path whose type
 * cannot be read (an nsfs file this process sees no mount of) is taken for
 * what it claims.
 *
 * @throws {CniError} code 8 naming the path and what it is instead
 */
export async function validateNetns(path: string): Promise<void> {
  const refuse = (why: string): never => {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetns,
      `Cannot use ${
        JSON.stringify(path)
      } as the pod's network namespace: ${why}`,
      { details: path },
    );
  };
  if (!path.startsWith("/")) refuse("not an absolute path");
  // The three reads at once: this runs before every pod's first plugin.
  const [stat, nsfsDev, link] = await Promise.all([
    Deno.stat(path).then((info) => ({ info }), (error: Error) => ({ error })),
    nsfsDevice(),
    Deno.readLink(path).catch(() => undefined),
  ]);
  if ("error" in stat) return refuse(stat.error.message);
  const info = stat.info;
  if (!info.isFile || info.dev !== nsfsDev) {
    refuse(
      `it is a ${
        info.isDirectory ? "directory" : "file"
      }, not a namespace (expected an nsfs mount such as /var/run/netns/<name>, or /proc/<pid>/ns/net)`,
    );
  }
  const type = await namespaceType(link, info.ino ?? 0);
  if (type !== undefined && type !== "net") {
    refuse(`it is a ${type} namespace, not a network namespace`);
  }
}

// The nsfs mount's device, read once per process (it never changes; serve
// checks a netns per request).
let nsfsDev: Promise<number> | undefined;
function nsfsDevice(): Promise<number> {
  nsfsDev ??= Deno.stat(SELF_NETNS).then((info) => info.dev);
  nsfsDev.catch(() => nsfsDev = undefined);
  return nsfsDev;
}

// /proc/<pid>/ns/<type> is a link (`link`, its target) to
// "<type>:[<inode>]"; a bind mount shows the same text as its root in
// mountinfo.
async function namespaceType(
  link: string | undefined,
  ino: number,
): Promise<string | undefined> {
  const target = NS_LINK.exec(link ?? "");
  if (target) return target[1];
  let mounts = "";
  try {
    mounts = await Deno.readTextFile("/proc/self/mountinfo");
  } catch {
    return undefined;
  }
  for (const line of mounts.split("\n")) {
    const root = NS_LINK.exec(line.split(" ")[3] ?? "");
    if (root && Number(root[2]) === ino) return root[1];
  }
  return undefined;
}
