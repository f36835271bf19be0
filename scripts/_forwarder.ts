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
