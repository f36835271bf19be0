// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Installs the Debian packages behind the real parts (plugins, iproute2,
 * iptables, runc, busybox) when they are missing and we are root, so that
 * `deno task test` and `deno task demo` work on a fresh machine.
 *
 * @module
 */
import { missingRealParts, REAL_PARTS } from "./real_parts.ts";

/**
 * Installs what is missing. Returns the parts still missing (non-root
 * callers decide whether that is fatal).
 */
export async function installRealParts(): Promise<string[]> {
  const missing = await missingRealParts();
  if (missing.length === 0) return [];
  if (Deno.uid() !== 0) return missing;
  const packages = [...new Set(missing.map((m) => REAL_PARTS[m]!))];
  console.error(`Installing ${packages.join(" ")} (Debian packages)`);
  const env = {
    DEBIAN_FRONTEND: "noninteractive",
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
  };
  for (
    const args of [["update", "-qq"], ["install", "-y", "-qq", ...packages]]
  ) {
    const status = await new Deno.Command("apt-get", {
      args,
      env,
      clearEnv: true,
    })
      .spawn().status;
    if (!status.success) {
      throw new Error(`apt-get ${args.join(" ")} failed (exit ${status.code})`);
    }
  }
  return await missingRealParts();
}
