/**
 * How the bundle `dist/cnishim.js` is run: the pinned Deno, its permission
 * flags and the `#!` line, shared by `compile`, `package` and `bench`.
 *
 * @module
 */

/** The Deno the README, CI and the package run: `npx -y deno@2.9.6 …`. */
export const DENO_VERSION = "2.9.6";

/**
 * The permission flags of every artifact: all. cnishim runs plugins
 * (`--allow-run`), and Deno's sandbox does not follow a program into what it
 * runs, so narrower flags contain nothing once that one is given. And Deno
 * 2.9 opens nothing under `/proc` to less than all access, while the shim
 * needs it: the netns check (`/proc/<pid>/ns/net`, nsfs mounts) and finding a
 * timed-out plugin's children (`/proc/<pid>/stat`, `environ`). With the five
 * narrow flags both silently failed in the bundle.
 */
export const PERMISSIONS: readonly string[] = ["--allow-all"];

/**
 * `deno bundle`'s flags for the one-file CLI, shared by `compile` and
 * `bench`. Minified, it starts about 2 ms sooner (a runtime pays the
 * start-up twice per pod, and the `--socket` client pays little else).
 * Names are not kept: esbuild's `--keep-names` re-defines `name` on every
 * function as its module loads, which cost `add` 1.6 ms and `version`
 * 0.8 ms (50 rounds interleaved). An internal error's stack is mapped to
 * the sources instead, through the linked map `<bundle>.map`, which Deno
 * reads only when it prints a stack.
 */
export const BUNDLE_FLAGS: readonly string[] = [
  "--platform",
  "deno",
  "--minify",
  "--sourcemap",
  "linked",
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

/**
 * The bundle as installed: run by `runtime` (its path where it is
 * installed) with `env`, and without the map reference. Runtimes start
 * the bundle through links (/usr/bin/cnishim, the plugin names), and Deno
 * maps a linked module's stack to wrong lines; a stack names bundle
 * positions, which dist/cnishim.js.map of the same version maps.
 */
export function installedBundle(
  bundle: string,
  runtime: string,
  env: Readonly<Record<string, string>> = {},
): string {
  const body = bundle.replace(/^#!.*\n/, "")
    .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  return `${shebang(runtime, env)}\n${body}`;
}

/** Where the .deb and the image keep the runtime and the bundle. */
export const LIB_DIR = "/usr/lib/cnishim";

/**
 * The image's entrypoint, to which the command is appended: the runtime
 * on the bundle (the image has no /usr/bin/env for its `#!` line). The
 * manifests' probes and preStop run the same argv.
 */
export const IMAGE_ENTRYPOINT: readonly string[] = [
  `${LIB_DIR}/deno`,
  ...RUN_FLAGS,
  `${LIB_DIR}/cnishim.js`,
];
