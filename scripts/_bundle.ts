/**
 * How the bundle `dist/cnishim.js` is run: the pinned Deno, its permission
 * flags and the `#!` line, shared by `compile`, `package` and `bench`.
 *
 * @module
 */

/** The Deno the README, CI and the package run: `npx -y deno@2.9.6 …`. */
export const DENO_VERSION = "2.9.6";

/**
 * The permission flags of every artifact, and why (no more): `--allow-read`
 * (conf dir, cache, plugin lookup, netns paths), `--allow-write` (cache,
 * locks, log file), `--allow-run` (plugins live in configurable bin dirs;
 * never a shell), `--allow-env` (CNISHIM_* settings, variables passed to
 * plugins), `--allow-net` (the meta plugin's HTTP backend and serve's unix
 * socket).
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net",
];

/**
 * `deno run` of the bundle, after the runtime's path: `--no-config` and
 * `--no-lock` keep a deno.json or deno.lock of the caller's working
 * directory out of a program that runtimes start from anywhere.
 */
export const RUN_FLAGS: readonly string[] = [
  "run",
  "--no-config",
  "--no-lock",
  "--no-prompt",
  ...PERMISSIONS,
];

/**
 * The bundle's first line: `env -S` splits the flags (the kernel passes a
 * `#!` line's arguments as one) and sets `env` first.
 */
export function shebang(
  runtime: string,
  env: Readonly<Record<string, string>> = {},
): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return `#!/usr/bin/env -S ${[...vars, runtime, ...RUN_FLAGS].join(" ")}`;
}
