// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task compile [--target all|<triple>] [--bundle-only] [--out-dir DIR]`
 *
 * Builds the artifacts runtimes use:
 * - `dist/cnishim.js`: `deno bundle` of the CLI, one self-contained file
 *   with a `#!/usr/bin/env -S deno run <permissions>` line (always built;
 *   needs only a `deno` executable on the node's PATH);
 * - `dist/cnishim-<version>-<target>`: `deno compile` of that bundle. `deno
 *   compile` needs the `denort` runtime of this Deno version for each
 *   target and downloads it, unless `DENORT_BIN` names a local copy (the
 *   `denort` binary from the Deno release archive `denort-<target>.zip`;
 *   one DENORT_BIN serves one target, so with it only the host target is
 *   built by default). Without network and without `DENORT_BIN` it fails
 *   within `COMPILE_TIMEOUT_MS` (default 20000) saying so, never hangs.
 *
 * The version (deno.json + `git describe`) is written into the bundle, so
 * `cnishim version` reports it; sources are never rewritten.
 *
 * Permissions baked in: `PERMISSIONS` in `_bundle.ts`, which says why.
 * Type checking is a separate `deno check` first; the build uses `--no-check`.
 *
 * @module
 */
import { join } from "node:path";
import { buildVersion } from "./_version.ts";
import { PERMISSIONS, shebang } from "./_bundle.ts";

const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];
const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();

async function run(
  args: string[],
  timeoutMs?: number,
): Promise<{ ok: boolean; output: string; timedOut: boolean }> {
  const child = new Deno.Command(deno, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = timeoutMs
    ? setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs)
    : undefined;
  const out = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return {
    ok: out.success && !timedOut,
    output: d.decode(out.stdout) + d.decode(out.stderr),
    timedOut,
  };
}

function fail(message: string): never {
  console.error(`compile: ${message}`);
  Deno.exit(1);
}

function option(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i === -1 ? undefined : Deno.args[i + 1];
}

const dist = option("--out-dir") ?? join(root, "dist");
const targetArg = option("--target") ?? "all";
const targets = targetArg === "all" ? TARGETS : [targetArg];
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    fail(`unknown --target "${t}" (use all, ${TARGETS.join(", ")})`);
  }
}
await Deno.mkdir(dist, { recursive: true });
const version = await buildVersion();
console.error(`compile: cnishim ${version}`);
const checked = await run(["check", "src/main.ts"]);
if (!checked.ok) fail(`type check failed:\n${checked.output}`);

const bundlePath = join(dist, "cnishim.js");
const bundled = await run(
  ["bundle", "--platform", "deno", "-o", bundlePath, "src/main.ts"],
  120_000,
);
if (!bundled.ok) fail(`deno bundle failed:\n${bundled.output}`);
const body = (await Deno.readTextFile(bundlePath)).replace(/^#!.*\n/, "");
// The one `VERSION` binding (CURRENT_VERSION, the CNI version, must not match).
const marker = /(?<![A-Za-z0-9_$])VERSION = "[^"]*"/g;
if ((body.match(marker) ?? []).length !== 1) {
  fail("cannot find exactly one VERSION constant in the bundle");
}
const versioned = body.replace(marker, `VERSION = ${JSON.stringify(version)}`);
await Deno.writeTextFile(
  bundlePath,
  `${shebang("deno")}\n${versioned}`,
);
await Deno.chmod(bundlePath, 0o755);
console.error(`compile: built ${bundlePath}`);

if (!Deno.args.includes("--bundle-only")) {
  const denort = Deno.env.get("DENORT_BIN");
  const timeoutMs = Number(Deno.env.get("COMPILE_TIMEOUT_MS") ?? 20_000);
  const host = TARGETS[Deno.build.arch === "aarch64" ? 1 : 0]!;
  const wanted = denort && targetArg === "all" ? [host] : targets;
  const failures: string[] = [];
  for (const target of wanted) {
    const output = join(dist, `cnishim-${version}-${target}`);
    const res = await run([
      "compile",
      "--no-check",
      "--target",
      target,
      ...PERMISSIONS,
      "--output",
      output,
      bundlePath,
    ], timeoutMs);
    if (res.ok) {
      console.error(`compile: built ${output}`);
      continue;
    }
    const why = res.timedOut
      ? `did not finish within ${timeoutMs} ms`
      : "failed";
    failures.push(
      `${target}: deno compile ${why}. ` +
        (denort
          ? `DENORT_BIN=${denort} was used: it must be the denort binary of Deno ${Deno.version.deno} for ${target}.`
          : `It needs the denort runtime of Deno ${Deno.version.deno} for ${target} and tried to download it, which is not possible from here. ` +
            `Set DENORT_BIN to a local denort binary (unpacked from denort-${target}.zip of the Deno ${Deno.version.deno} release) and run again.`) +
        `\n  ${
          res.output.split("\n").filter((l) => /error/i.test(l)).join("\n  ")
        }`,
    );
  }
  if (failures.length) {
    fail(
      `${
        failures.join("\n")
      }\ncompile: the bundle ${bundlePath} was built; it runs wherever a deno executable is on PATH.`,
    );
  }
}
