// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task test`: the quality gates, then the whole suite. As root it
 * installs the real parts the end-to-end tests need when they are missing;
 * in CI a missing part is a failure, on a laptop without root the
 * end-to-end tests skip with a message.
 *
 * @module
 */
import { installParts } from "./_real_parts.ts";
import { packagesFor, TEST_PARTS } from "./real_parts.ts";

const deno = Deno.execPath();
const args = Deno.args;

async function run(
  cmd: string,
  argv: string[],
  env?: Record<string, string>,
): Promise<void> {
  const label = [cmd === deno ? "deno" : cmd, ...argv].join(" ");
  console.error(`\n== ${label}`);
  const status = await new Deno.Command(cmd, { args: argv, env: env ?? {} })
    .spawn().status;
  if (!status.success) {
    console.error(`== FAILED: ${label} (exit ${status.code})`);
    Deno.exit(status.code || 1);
  }
}

async function ensureRealParts(): Promise<void> {
  const { missing } = await installParts(TEST_PARTS, "test");
  if (missing.length) {
    console.error(
      `test: the real-part tests need ${missing.join(", ")} (Debian: ${
        packagesFor(TEST_PARTS, missing).join(" ")
      }; run as root to install them)`,
    );
  }
}

// The gates are deno.json's lint and check tasks, listed there once.
if (!args.includes("--no-gates")) {
  await run(deno, ["task", "lint"]);
  await run(deno, ["task", "check"]);
}
await ensureRealParts();

// Deno prints "ok | 40 passed (12 steps) | 0 failed | 2 ignored"; the plain
// "N passed, N failed" line at the end is what CI's summary reader takes.
const totals = { passed: 0, failed: 0, ignored: 0 };

async function denoTest(
  argv: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const child = new Deno.Command(deno, {
    args: ["test", "-A", "--parallel", ...argv],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
  }
  const status = await child.status;
  // deno-lint-ignore no-control-regex
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
  const m = plain.match(
    /(\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/,
  );
  if (m) {
    totals.passed += Number(m[1]);
    totals.failed += Number(m[2]);
    totals.ignored += Number(m[3] ?? 0);
  } else if (!status.success) {
    totals.failed += 1;
  }
  return status.code;
}

const testArgs = args.filter((a) => a !== "--no-gates" && a !== "--artifacts");
// JSDoc examples are tests too (std's practice): they run with --doc.
let code = await denoTest(
  testArgs.length ? testArgs : ["--doc", "tests/", "src/", "mod.ts"],
);

// The bundle runtimes install must pass the same command-line, end-to-end,
// fault, install and plugin-mode suites as the source (always in CI, else with --artifacts).
if (
  code === 0 && (Deno.env.get("CI") === "true" || args.includes("--artifacts"))
) {
  const out = await Deno.makeTempDir({ prefix: "cnishim-artifact-" });
  try {
    await run(deno, [
      "run",
      "-A",
      "scripts/compile.ts",
      "--bundle-only",
      "--out-dir",
      out,
    ]);
    const bundle = `${out}/cnishim.js`;
    console.error(`\n== the same suites against the bundle ${bundle}`);
    const path = `${deno.slice(0, deno.lastIndexOf("/"))}:${
      Deno.env.get("PATH") ?? "/usr/bin:/bin"
    }`;
    code = await denoTest([
      "tests/cli",
      "tests/e2e",
      "tests/faults",
      "tests/install",
      "tests/plugin",
    ], {
      CNISHIM_ARTIFACT: bundle,
      PATH: path,
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
console.log(
  `tests: ${totals.passed} passed, ${totals.failed} failed${
    totals.ignored ? `, ${totals.ignored} skipped` : ""
  }`,
);
Deno.exit(code);
