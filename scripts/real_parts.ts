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

/**
 * What `deno task package` runs besides dpkg-deb: the shared-library
 * dependencies of the shipped ELF, and the C compiler and static libc of
 * the front-end plugin's forwarder (`packaging/cni/cnishim_forwarder.c`).
 */
export const PACKAGE_PARTS: Parts = {
  "/usr/bin/dpkg-shlibdeps": "dpkg-dev",
  "/usr/bin/gcc": "gcc",
  "/usr/include/stdio.h": "libc6-dev",
};

/** What `deno task image` runs: podman builds and saves the image. */
export const IMAGE_PARTS: Parts = {
  "/usr/bin/podman": "podman",
};

/**
 * Go libcni, the reference: its source (1.1.2, a Debian package) and the Go
 * toolchain that builds it offline in GOPATH mode.
 */
export const LIBCNI_PARTS: Parts = {
  "/usr/bin/go": "golang-go",
  "/usr/share/gocode/src/github.com/containernetworking/cni/libcni/api.go":
    "golang-github-appc-cni-dev",
};

/**
 * What the tests spawn: the demo's parts, runc (OCI hook e2e), flock,
 * mount (the cache fault tests' tmpfs and read-only binds, Debian's `mount`
 * package, absent from a minimal root), lintian (package test), curl (the
 * raw OCI state posted to serve's hook endpoint), the package task's parts,
 * Go libcni (differential tests against the reference), systemd's socket
 * activation and unit verifier (the service tests; Debian's `systemd`
 * package, not booted), podman (the hooks.d test) and containerd 1.6 with
 * its `ctr` (the CRI test, which starts the daemon itself).
 */
export const TEST_PARTS: Parts = {
  ...DEMO_PARTS,
  ...PACKAGE_PARTS,
  ...LIBCNI_PARTS,
  "/usr/sbin/runc": "runc",
  "/usr/bin/flock": "util-linux",
  "/usr/bin/mount": "mount",
  "/usr/bin/lintian": "lintian",
  "/usr/bin/curl": "curl",
  "/usr/bin/systemd-socket-activate": "systemd",
  "/usr/bin/systemd-analyze": "systemd",
  "/usr/bin/podman": "podman",
  "/usr/bin/containerd": "containerd",
  "/usr/bin/ctr": "containerd",
};

/**
 * What `deno task bench` runs for its real pods besides the demo's parts:
 * Go libcni, its peer (built in GOPATH mode, offline; bench/_go_peer.ts),
 * curl (the thinnest hook client), nsenter (the hook's container
 * process) and gcc with libc6-dev (the front-end plugin's forwarder).
 */
export const BENCH_PARTS: Parts = {
  ...DEMO_PARTS,
  ...LIBCNI_PARTS,
  "/usr/bin/gcc": "gcc",
  "/usr/include/stdio.h": "libc6-dev",
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
