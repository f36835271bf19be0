// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task compile [--target all|<triple>] [--bundle-only]`
 *
 * Builds the artifacts runtimes use:
 * - `dist/cnishim.js`: `deno bundle` of the CLI, one self-contained file
 *   with a `#!/usr/bin/env -S deno run <permissions>` line (always built;
 *   needs only a `deno` executable on the node);
 * - `dist/cnishim-<version>-<target>`: `deno compile` binaries. `deno
 *   compile` needs the `denort` runtime of this Deno version for each
 *   target; it downloads it unless `DENORT_BIN` names a local copy (the
 *   `denort` binary from Deno's release archive `denort-<target>.zip`).
 *   Without network and without `DENORT_BIN` it fails within the timeout
 *   (`COMPILE_TIMEOUT_MS`, default 20000) with a message saying so.
 *
 * Permissions baked in, and why (no more): `--allow-read` (conf dir, cache,
 * plugin lookup, netns paths), `--allow-write` (cache, locks, log file),
 * `--allow-run` (plugins live in configurable bin dirs; no shell),
 * `--allow-env` (CNISHIM_* settings and the variables passed to plugins),
 * `--allow-net` (only used by the meta-plugin mode's HTTP backend). Type
 * checking is a separate `deno check` step, then `--no-check`.
 *
 * @module
 */
import { join } from "node:path";

/** The permission flags of every artifact. */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net",
];

const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];
const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
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
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { ok: out.success && !timedOut, output: text, timedOut };
}

/** deno.json's version, plus `git describe` when the tree is a checkout. */
async function version(): Promise<string> {
  const base = JSON.parse(await Deno.readTextFile(join(root, "deno.json")))
    .version as string;
  try {
    const out = await new Deno.Command("git", {
      args: ["describe", "--tags", "--always", "--dirty"],
      cwd: root,
      stderr: "null",
    }).output();
    const describe = new TextDecoder().decode(out.stdout).trim();
    return out.success && describe
      ? `${base}+${describe.replace(/^v/, "").replaceAll("/", "-")}`
      : base;
  } catch {
    return base;
  }
}

/** Rewrites src/cli/version.ts for the build, restoring it afterwards. */
async function withVersion<T>(v: string, fn: () => Promise<T>): Promise<T> {
  const file = join(root, "src/cli/version.ts");
  const original = await Deno.readTextFile(file);
  await Deno.writeTextFile(
    file,
    original.replace(
      /export const VERSION = "[^"]*";/,
      `export const VERSION = ${JSON.stringify(v)};`,
    ),
  );
  try {
    return await fn();
  } finally {
    await Deno.writeTextFile(file, original);
  }
}

function fail(message: string): never {
  console.error(`compile: ${message}`);
  Deno.exit(1);
}

const args = Deno.args;
const targetArg = args.includes("--target")
  ? args[args.indexOf("--target") + 1]
  : "all";
const bundleOnly = args.includes("--bundle-only");
const targets = targetArg === "all" ? TARGETS : [targetArg ?? ""];
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    fail(`unknown --target "${t}" (use all, ${TARGETS.join(", ")})`);
  }
}

await Deno.mkdir(dist, { recursive: true });
const v = await version();
console.error(`compile: cnishim ${v}`);
const checked = await run(["check", "src/main.ts"]);
if (!checked.ok) fail(`type check failed:\n${checked.output}`);

await withVersion(v, async () => {
  const bundlePath = join(dist, "cnishim.js");
  const bundled = await run([
    "bundle",
    "--platform",
    "deno",
    "-o",
    bundlePath,
    "src/main.ts",
  ], 120_000);
  if (!bundled.ok) fail(`deno bundle failed:\n${bundled.output}`);
  const body = await Deno.readTextFile(bundlePath);
  await Deno.writeTextFile(
    bundlePath,
    `#!/usr/bin/env -S deno run --no-prompt ${PERMISSIONS.join(" ")}\n${
      body.replace(/^#!.*\n/, "")
    }`,
  );
  await Deno.chmod(bundlePath, 0o755);
  console.error(`compile: built ${bundlePath}`);
  if (bundleOnly) return;

  const denort = Deno.env.get("DENORT_BIN");
  const timeoutMs = Number(Deno.env.get("COMPILE_TIMEOUT_MS") ?? 20_000);
  const failures: string[] = [];
  // One DENORT_BIN is one target's runtime: with it, build the host target only.
  const wanted = denort && targetArg === "all"
    ? [TARGETS[Deno.build.arch === "aarch64" ? 1 : 0]!]
    : targets;
  for (const target of wanted) {
    const output = join(dist, `cnishim-${v}-${target}`);
    const res = await run([
      "compile",
      "--no-check",
      "--target",
      target,
      ...PERMISSIONS,
      "--output",
      output,
      "src/main.ts",
    ], timeoutMs);
    if (res.ok) {
      console.error(`compile: built ${output}`);
      continue;
    }
    failures.push(
      `${target}: deno compile ${
        res.timedOut ? `did not finish within ${timeoutMs} ms` : "failed"
      }. ` +
        (denort
          ? `DENORT_BIN=${denort} was used; it must be the denort binary of Deno ${Deno.version.deno} for ${target}.`
          : `It needs the denort runtime of Deno ${Deno.version.deno} for ${target}, which it downloads, and that download is not reachable from here. ` +
            `Set DENORT_BIN to a local denort binary (unpacked from denort-${target}.zip of the Deno ${Deno.version.deno} release) and run again.`) +
        `\n${res.output.trim().split("\n").slice(-3).join("\n")}`,
    );
  }
  if (failures.length) {
    fail(
      `${
        failures.join("\n")
      }\nThe bundle ${bundlePath} was built and runs with a deno executable.`,
    );
  }
});
