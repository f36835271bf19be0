/**
 * The real parts the end-to-end tests and the demo use: what
 * `scripts/_real_parts.ts` installs and `tests/_helpers/prerequisites.ts`
 * requires.
 *
 * @module
 */

/** Executable (or file) → Debian package providing it. */
export const REAL_PARTS: Record<string, string> = {
  "/usr/lib/cni/bridge": "containernetworking-plugins",
  "/usr/sbin/ip": "iproute2",
  "/usr/sbin/iptables": "iptables",
  "/usr/sbin/runc": "runc",
  "/bin/busybox": "busybox-static",
  "/usr/bin/flock": "util-linux",
  "/usr/bin/lintian": "lintian",
};

/** The parts not installed. */
export async function missingRealParts(): Promise<string[]> {
  const missing: string[] = [];
  for (const path of Object.keys(REAL_PARTS)) {
    try {
      await Deno.stat(path);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}
