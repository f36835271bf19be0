// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task test`: the quality gates, then the whole suite. As root it
 * installs the real parts the end-to-end tests need when they are missing;
 * in CI a missing part is a failure, on a laptop without root the
 * end-to-end tests skip with a message.
 *
 * @module
 */
import {
  missingRealParts,
  REAL_PARTS,
} from "../tests/_helpers/prerequisites.ts";

const deno = Deno.execPath();
const isRoot = Deno.uid() === 0;
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

async function installRealParts(): Promise<void> {
  const missing = await missingRealParts();
  if (missing.length === 0) return;
  if (!isRoot) {
    console.error(
      `Real-part tests need: ${
        missing.join(", ")
      } (run as root to install them)`,
    );
    return;
  }
  const packages = [...new Set(missing.map((m) => REAL_PARTS[m]!))];
  console.error(`Installing ${packages.join(" ")} for the end-to-end tests`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update", "-qq"], env);
  await run("apt-get", ["install", "-y", "-qq", ...packages], env);
}

if (!args.includes("--no-gates")) {
  await run(deno, ["fmt", "--check"]);
  await run(deno, ["lint"]);
  await run(deno, ["doc", "--lint", "mod.ts"]);
  await run(deno, [
    "run",
    "--allow-read",
    "--allow-run",
    "scripts/check_layers.ts",
  ]);
  await run(deno, ["check", "."]);
}
await installRealParts();

// Deno prints "ok | 40 passed (12 steps) | 0 failed | 2 ignored"; the plain
// "N passed, N failed" line below is what CI's summary reader understands.
const child = new Deno.Command(deno, {
  args: ["test", "-A", "--parallel", ...args.filter((a) => a !== "--no-gates")],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
let summary = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  const text = decoder.decode(chunk, { stream: true });
  await Deno.stdout.write(chunk);
  summary = (summary + text).slice(-4096);
}
const status = await child.status;
// deno-lint-ignore no-control-regex
const plain = summary.replace(/\x1b\[[0-9;]*m/g, "");
const m = plain.match(/(\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/);
if (m) {
  console.log(
    `tests: ${m[1]} passed, ${m[2]} failed${m[3] ? `, ${m[3]} skipped` : ""}`,
  );
}
Deno.exit(status.code);
