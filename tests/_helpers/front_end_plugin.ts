/**
 * cnishim as a runtime's CNI plugin in a test's bin dir: the forwarder the
 * package ships as `/usr/lib/cni/cnishim` (`packaging/cni/cnishim`), its
 * program being the CLI under test (source or `CNISHIM_ARTIFACT`), and a
 * runtime's exec of it (clear environment, the `CNI_*` variables, the
 * config on stdin).
 *
 * @module
 */
import { join } from "node:path";
import { baseEnv, cliCommand } from "./run_cli.ts";
import { forwarderScript as fill } from "../../scripts/_forwarder.ts";
import { DEFAULT_SOCKET } from "../../src/serve/protocol.ts";
import { spawnWithStdin } from "./shell.ts";

/**
 * The forwarder with its program and the socket it forwards to filled in:
 * what `deno task package` writes to `/usr/lib/cni/cnishim`.
 */
export function forwarderScript(
  program: readonly string[],
  socket: string = DEFAULT_SOCKET,
): Promise<string> {
  return fill(program, socket);
}

/**
 * Writes `<binDir>/cnishim`: the forwarder exec'ing the CLI under test,
 * forwarding thick calls for `socket` to `cnishim serve`.
 */
export async function installFrontEndPlugin(
  binDir: string,
  socket: string = DEFAULT_SOCKET,
): Promise<string> {
  const path = join(binDir, "cnishim");
  await Deno.writeTextFile(path, await forwarderScript(cliCommand(), socket), {
    mode: 0o755,
  });
  await Deno.chmod(path, 0o755);
  return path;
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
