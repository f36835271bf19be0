/**
 * The forwarder a runtime execs as the `cnishim` CNI plugin
 * (`packaging/cni/cnishim`), with its program and socket filled in: what
 * `deno task package` installs as `/usr/lib/cni/cnishim`, and what the
 * tests put in their bin dirs.
 *
 * @module
 */

/** Where the template lives. */
export const FORWARDER_TEMPLATE: URL = new URL(
  "../packaging/cni/cnishim",
  import.meta.url,
);

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The forwarder exec'ing `program` (words, split by the shell: no spaces
 * inside one) and forwarding thick calls for `socket`.
 */
export async function forwarderScript(
  program: readonly string[],
  socket: string,
): Promise<string> {
  const text = await Deno.readTextFile(FORWARDER_TEMPLATE);
  return text.replaceAll("@CNISHIM@", quote(program.join(" ")))
    .replaceAll("@SOCKET@", quote(socket));
}

/** One file of the `cnishim` CNI plugin in a bin dir. */
export interface PluginFile {
  /** Its name in the bin dir. */
  name: string;
  /** Its bytes. */
  data: Uint8Array;
  /** Its mode. */
  mode: number;
}

/**
 * The files that make the `cnishim` CNI plugin in a bin dir, exec'ing
 * `program` and forwarding thick calls for `socket`: what `deno task
 * package` puts in `/usr/lib/cni`, what `deno task image` stages for
 * `cnishim install` to copy into a node's bin dir, and what the tests put
 * in theirs. The one list of them: a forwarder built another way changes
 * it here for all three.
 */
export async function frontEndPluginFiles(
  program: readonly string[],
  socket: string,
): Promise<PluginFile[]> {
  return [{
    name: "cnishim",
    data: new TextEncoder().encode(await forwarderScript(program, socket)),
    mode: 0o755,
  }];
}
