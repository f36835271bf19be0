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
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    return refuse((error as Error).message);
  }
  const nsfs = await Deno.stat(SELF_NETNS);
  if (!info.isFile || info.dev !== nsfs.dev) {
    refuse(
      `it is a ${
        info.isDirectory ? "directory" : "file"
      }, not a namespace (expected an nsfs mount such as /var/run/netns/<name>, or /proc/<pid>/ns/net)`,
    );
  }
  const type = await namespaceType(path, info.ino ?? 0);
  if (type !== undefined && type !== "net") {
    refuse(`it is a ${type} namespace, not a network namespace`);
  }
}

// /proc/<pid>/ns/<type> is a link to "<type>:[<inode>]"; a bind mount shows
// the same text as its root in mountinfo.
async function namespaceType(
  path: string,
  ino: number,
): Promise<string | undefined> {
  try {
    const link = NS_LINK.exec(await Deno.readLink(path));
    if (link) return link[1];
  } catch {
    // Not a link: a bind mount.
  }
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
