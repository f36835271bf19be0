// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * The real parts the end-to-end tests use, and whether they may run here:
 * root is needed for namespaces; in CI a missing part fails the test
 * instead of skipping it.
 *
 * @module
 */
import {
  missingParts,
  packagesFor,
  type Parts,
  TEST_PARTS,
} from "../../scripts/real_parts.ts";

/** The parts the tests spawn (the test task installs them as root). */
export const REAL_PARTS: Parts = TEST_PARTS;

/** The parts not installed. */
export function missingRealParts(): Promise<string[]> {
  return missingParts(REAL_PARTS);
}

const IN_CI = Deno.env.get("CI") === "true";
const IS_ROOT = Deno.uid() === 0;

/**
 * `true` when root-only tests must be ignored: not root and not in CI. In
 * CI they always run, so a missing prerequisite fails them.
 */
export const SKIP_REAL_PARTS: boolean = !IS_ROOT && !IN_CI;

if (SKIP_REAL_PARTS && import.meta.main === false) {
  // Printed once per test file that imports this; cheap and explicit.
  console.error(
    "note: end-to-end tests skipped (they need root: real namespaces, iptables)",
  );
}

/** Fails the calling test when a real part is missing (so CI never passes vacuously). */
export async function requireRealParts(): Promise<void> {
  const missing = await missingRealParts();
  if (missing.length) {
    throw new Error(
      `Cannot run the end-to-end test: missing ${missing.join(", ")} (install ${
        packagesFor(REAL_PARTS, missing).join(" ")
      })`,
    );
  }
}

/**
 * `true` when a test of the real program at `path` must be ignored: it is
 * not installed and this is not CI (in CI the test runs and fails, naming
 * the package, through {@link requirePart}).
 */
export function ignoreWithout(path: string): boolean {
  if (IN_CI) return false;
  try {
    Deno.statSync(path);
    return false;
  } catch {
    return true;
  }
}

/** Fails the calling test when the real program at `path` is missing. */
export async function requirePart(path: string): Promise<void> {
  const missing = await missingParts({ [path]: REAL_PARTS[path] ?? "?" });
  if (missing.length) {
    throw new Error(
      `Cannot run the test: ${path} is missing (install ${
        REAL_PARTS[path] ?? "the package that provides it"
      })`,
    );
  }
}
