// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * The Debian packages behind the real parts each task runs, found by running
 * the tasks on a bare Debian 12 root (`../shared/tools/fresh-node.sh`), and
 * their quiet installation: one line on stderr naming what is installed,
 * apt's own output in a log file.
 *
 * @module
 */

/** Executable (or file) → the Debian package that provides it. */
export type Parts = Readonly<Record<string, string>>;

/** What `deno task demo` runs: plugins, ip, iptables (portmap, the leak check) and busybox's ping. */
export const DEMO_PARTS: Parts = {
  "/usr/lib/cni/bridge": "containernetworking-plugins",
  "/usr/sbin/ip": "iproute2",
  "/usr/sbin/iptables": "iptables",
  "/bin/busybox": "busybox-static",
};

/** What `deno task package` runs besides dpkg-deb: the shared-library dependencies of the shipped ELF. */
export const PACKAGE_PARTS: Parts = {
  "/usr/bin/dpkg-shlibdeps": "dpkg-dev",
};

/**
 * What the tests spawn: the demo's parts, runc (OCI hook e2e), flock,
 * mount (the cache fault tests' tmpfs and read-only binds, Debian's `mount`
 * package, absent from a minimal root), lintian (package test), curl (the
 * raw OCI state posted to serve's hook endpoint) and the package task's
 * parts.
 */
export const TEST_PARTS: Parts = {
  ...DEMO_PARTS,
  ...PACKAGE_PARTS,
  "/usr/sbin/runc": "runc",
  "/usr/bin/flock": "util-linux",
  "/usr/bin/mount": "mount",
  "/usr/bin/lintian": "lintian",
  "/usr/bin/curl": "curl",
};

/**
 * What `deno task bench` runs for its real pods besides the demo's parts:
 * the Go toolchain and libcni's source its Go peer is built from (GOPATH
 * mode, offline; bench/_go_peer.ts), curl (the thinnest hook client) and
 * nsenter (the hook's container process).
 */
export const BENCH_PARTS: Parts = {
  ...DEMO_PARTS,
  "/usr/bin/go": "golang-go",
  "/usr/share/gocode/src/github.com/containernetworking/cni/libcni/api.go":
    "golang-github-appc-cni-dev",
  "/usr/bin/curl": "curl",
  "/usr/bin/nsenter": "util-linux",
};

/** The paths of `parts` not present here. */
export async function missingParts(parts: Parts): Promise<string[]> {
  const missing: string[] = [];
  for (const path of Object.keys(parts)) {
    try {
      await Deno.stat(path);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}

/** The packages that provide `paths`, each once. */
export function packagesFor(parts: Parts, paths: string[]): string[] {
  return [...new Set(paths.map((p) => parts[p]!))];
}

/**
 * Installs the packages of the missing parts when root, quietly: one line
 * naming them, apt's output appended to `${TMPDIR:-/tmp}/cnishim-apt.log`.
 * Returns the packages it installed and the parts still missing (non-root
 * callers decide whether that is fatal).
 */
export async function installParts(
  parts: Parts,
  task: string,
): Promise<{ installed: string[]; missing: string[] }> {
  const missing = await missingParts(parts);
  if (missing.length === 0 || Deno.uid() !== 0) {
    return { installed: [], missing };
  }
  const packages = packagesFor(parts, missing);
  const log = `${Deno.env.get("TMPDIR") ?? "/tmp"}/cnishim-apt.log`;
  console.error(
    `${task}: installing ${
      packages.join(" ")
    } (Debian packages; apt's output in ${log})`,
  );
  const file = await Deno.open(log, {
    append: true,
    create: true,
    mode: 0o644,
  });
  try {
    const env = {
      DEBIAN_FRONTEND: "noninteractive",
      PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    };
    // A fresh node has no package lists: update first, once.
    for (const args of [["update"], ["install", "-y", ...packages]]) {
      const out = await new Deno.Command("apt-get", {
        args,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      await file.write(out.stdout);
      await file.write(out.stderr);
      if (!out.success) {
        throw new Error(
          `apt-get ${
            args.join(" ")
          } failed (exit ${out.code}); its output is in ${log}`,
        );
      }
    }
  } finally {
    file.close();
  }
  return { installed: packages, missing: await missingParts(parts) };
}
