/**
 * The Debian packages behind the real parts each task runs, found by running
 * the tasks on a bare Debian 12 root (`../shared/tools/fresh-node.sh`).
 * `_real_parts.ts` installs them; `tests/_helpers/prerequisites.ts` decides
 * from them whether the end-to-end tests can run.
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
 * package, absent from a minimal root), lintian (package test), the
 * package task's parts, systemd's socket activation and unit verifier (the
 * service tests; Debian's `systemd` package, not booted) and podman (the
 * hooks.d test).
 */
export const TEST_PARTS: Parts = {
  ...DEMO_PARTS,
  ...PACKAGE_PARTS,
  "/usr/sbin/runc": "runc",
  "/usr/bin/flock": "util-linux",
  "/usr/bin/mount": "mount",
  "/usr/bin/lintian": "lintian",
  "/usr/bin/systemd-socket-activate": "systemd",
  "/usr/bin/systemd-analyze": "systemd",
  "/usr/bin/podman": "podman",
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
