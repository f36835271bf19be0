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
import {
  forwarderScript as fill,
  frontEndPluginFiles,
} from "../../scripts/_forwarder.ts";
import { DEFAULT_SOCKET } from "../../src/serve/protocol.ts";

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
 * Writes the files of the `cnishim` plugin (`frontEndPluginFiles`, as the
 * package does) into `binDir`: the forwarder exec'ing the CLI under test,
 * forwarding thick calls for `socket` to `cnishim serve`. Returns the
 * plugin's path.
 */
export async function installFrontEndPlugin(
  binDir: string,
  socket: string = DEFAULT_SOCKET,
): Promise<string> {
  for (const f of await frontEndPluginFiles(cliCommand(), socket)) {
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
  const child = new Deno.Command(plugin, {
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}
