/**
 * cnishim as a runtime's CNI plugin in a test's bin dir: the forwarder the
 * package ships as `/usr/lib/cni/cnishim`
 * (`packaging/cni/cnishim_forwarder.c`), its program being the CLI under
 * test (source or `CNISHIM_ARTIFACT`), and a runtime's exec of it (clear
 * environment, the `CNI_*` variables, the config on stdin).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { baseEnv, cliCommand } from "./run_cli.ts";
import {
  buildForwarder as build,
  type ForwarderOptions,
  frontEndPluginFiles,
} from "../../scripts/_forwarder.ts";
import { DEFAULT_SOCKET } from "../../src/serve/protocol.ts";
import { spawnWithStdin } from "./shell.ts";

/**
 * Writes the forwarder exec'ing `program` and forwarding thick calls for
 * `socket` to `path`: what `deno task package` installs as
 * `/usr/lib/cni/cnishim`.
 */
export function buildForwarder(
  program: readonly string[],
  socket: string,
  path: string,
  options?: ForwarderOptions,
): Promise<string> {
  return build(program, socket, path, options);
}

/**
 * Writes the files of the `cnishim` plugin (`frontEndPluginFiles`, as the
 * package does) into `binDir`: the forwarder exec'ing the CLI under test,
 * forwarding thick calls for `socket` to `cnishim serve`. Returns the
 * plugin's path.
 */
export async function installFrontEndPlugin(
  binDir: string,
  socket: string = DEFAULT_SOCKET,
  options?: ForwarderOptions,
): Promise<string> {
  // The forwarder execs an absolute path (no PATH search): a relative
  // CNISHIM_ARTIFACT is resolved here.
  const [program, ...lead] = cliCommand();
  const files = await frontEndPluginFiles(
    [resolve(program), ...lead],
    socket,
    options,
  );
  for (const f of files) {
    const path = join(binDir, f.name);
    await Deno.writeFile(path, f.data, { mode: f.mode });
    await Deno.chmod(path, f.mode);
  }
  return join(binDir, "cnishim");
}

/** What one plugin exec printed. */
export interface PluginRun {
  /** Exit status. */
  code: number;
  /** stdout. */
  stdout: string;
  /** stderr. */
  stderr: string;
}

/** Execs `plugin` as a runtime does: `env` (the CNI_* variables), `stdin`. */
export async function execPlugin(
  plugin: string,
  env: Record<string, string>,
  stdin: string,
): Promise<PluginRun> {
  return await spawnWithStdin(plugin, stdin, {
    clearEnv: true,
    env: { ...baseEnv(), ...env },
  });
}
