/**
 * The host state a demo run can change besides what DEL removes, read
 * before and after, restored, and compared: the demo promises to leave the
 * node as it found it, so it checks that promise instead of assuming it.
 *
 * What a run changes, seen on a bare Debian 12 root: host-local's own files
 * (`<dataDir>/<network>/lock` and `last_reserved_ip.0`, and the directories
 * above them), IPv4 forwarding (the bridge plugin's `isGateway` turns it
 * on), and `/run/netns` (`ip netns add` creates it and bind-mounts it on
 * itself).
 *
 * @module
 */

/** What to look at. */
export interface HostScope {
  /** A directory whose whole contents the run may create or change (host-local's network dir). */
  readonly dir: string;
  /** Directories above it that the run may create (only their existence is read). */
  readonly parents: readonly string[];
  /** Whether an iptables-save line belongs to the run (names its bridge, subnet or pods). */
  readonly rule: (line: string) => boolean;
}

/** One reading of the host. */
export interface HostState {
  /** Forwarding sysctls, `/proc/sys` path → value. */
  readonly sysctls: ReadonlyMap<string, string>;
  /** Paths in the scope's dirs → content (`null` for a directory). */
  readonly files: ReadonlyMap<string, string | null>;
  /** Whether `/run/netns` exists, and whether it is a mount point. */
  readonly netns: { readonly exists: boolean; readonly mounted: boolean };
  /** iptables and ip6tables lines in scope, prefixed by family and table. */
  readonly rules: readonly string[];
}

const SYSCTLS = [
  "/proc/sys/net/ipv4/ip_forward",
  "/proc/sys/net/ipv6/conf/all/forwarding",
];
const NETNS = "/run/netns";

/** stdout of a command that succeeded, else "" (what it failed to do shows in `hostChanges`). */
async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    return null;
  }
}

async function walk(
  dir: string,
  into: Map<string, string | null>,
): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  into.set(dir, null);
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) await walk(path, into);
    else into.set(path, await Deno.readTextFile(path).catch(() => ""));
  }
}

async function mountPoints(): Promise<Set<string>> {
  const info = await Deno.readTextFile("/proc/self/mountinfo");
  return new Set(info.split("\n").map((l) => l.split(" ")[4] ?? ""));
}

/** Reads the host state in `scope`. */
export async function readHostState(scope: HostScope): Promise<HostState> {
  const sysctls = new Map<string, string>();
  for (const path of SYSCTLS) {
    const value = await readOrNull(path);
    if (value !== null) sysctls.set(path, value);
  }
  const files = new Map<string, string | null>();
  for (const dir of scope.parents) {
    if (await isDir(dir)) files.set(dir, null);
  }
  await walk(scope.dir, files);
  const rules: string[] = [];
  for (const family of ["iptables", "ip6tables"]) {
    for (const table of ["filter", "nat", "mangle", "raw"]) {
      const save = await output(`${family}-save`, ["-t", table]);
      rules.push(
        ...save.split("\n").filter(scope.rule).map((l) =>
          `${family} ${table}: ${l.replace(/ \[\d+:\d+\]$/, "")}`
        ),
      );
    }
  }
  return {
    sysctls,
    files,
    netns: {
      exists: await isDir(NETNS),
      mounted: (await mountPoints()).has(NETNS),
    },
    rules,
  };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** What differs between two readings, one line each (empty when none). */
export function hostChanges(before: HostState, after: HostState): string[] {
  const changes: string[] = [];
  for (const [path, value] of before.sysctls) {
    const now = after.sysctls.get(path);
    if (now !== value) changes.push(`${path}: ${value} → ${now}`);
  }
  for (const [path, content] of after.files) {
    if (!before.files.has(path)) changes.push(`new: ${path}`);
    else if (before.files.get(path) !== content) {
      changes.push(`changed: ${path}`);
    }
  }
  for (const path of before.files.keys()) {
    if (!after.files.has(path)) changes.push(`gone: ${path}`);
  }
  if (before.netns.exists !== after.netns.exists) {
    changes.push(`${NETNS} ${after.netns.exists ? "created" : "removed"}`);
  }
  if (before.netns.mounted !== after.netns.mounted) {
    changes.push(`${NETNS} ${after.netns.mounted ? "mounted" : "unmounted"}`);
  }
  const old = new Set(before.rules);
  changes.push(...after.rules.filter((r) => !old.has(r)).map((r) => `+ ${r}`));
  const now = new Set(after.rules);
  changes.push(
    ...before.rules.filter((r) => !now.has(r)).map((r) => `- ${r}`),
  );
  return changes;
}

/**
 * Puts back what a run changed in `before`'s scope: sysctls, files and
 * directories (new ones removed, changed ones rewritten), and `/run/netns`
 * when the run created it and no namespace is left in it. iptables rules
 * are not touched: DEL must remove them, and `hostChanges` reports any
 * that stayed.
 */
export async function restoreHostState(
  scope: HostScope,
  before: HostState,
): Promise<void> {
  const now = await readHostState(scope);
  for (const [path, value] of before.sysctls) {
    if (now.sysctls.get(path) !== value) {
      await Deno.writeTextFile(path, `${value}\n`);
    }
  }
  // Deepest first, so a directory is empty when its turn comes.
  const paths = [...now.files.keys()].sort((a, b) => b.length - a.length);
  for (const path of paths) {
    if (!before.files.has(path)) {
      // A parent directory may have gained other entries meanwhile: keep it then.
      await Deno.remove(path).catch(() => {});
    } else {
      const content = before.files.get(path);
      if (typeof content === "string" && content !== now.files.get(path)) {
        await Deno.writeTextFile(path, content);
      }
    }
  }
  const netnsEmpty = now.netns.exists &&
    (await Array.fromAsync(Deno.readDir(NETNS))).length === 0;
  if (netnsEmpty && now.netns.mounted && !before.netns.mounted) {
    // busybox: the demo needs it anyway, and a minimal root has no umount(8).
    await output("busybox", ["umount", NETNS]);
  }
  if (netnsEmpty && !before.netns.exists) {
    await Deno.remove(NETNS).catch(() => {});
  }
}
