// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Quiet installation of the real parts a task runs: one line on stderr
 * naming the packages, apt's own output in a log file.
 *
 * @module
 */
import { missingParts, packagesFor, type Parts } from "./real_parts.ts";

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
