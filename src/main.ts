/**
 * The binary's entry: the only module that reads `Deno.args` and the
 * process environment, or calls `Deno.exit`.
 *
 * @module
 */
import { LISTEN_VARIABLES } from "./serve/activation.ts";

const env = Deno.env.toObject();
// sd_listen_fds: read (from the snapshot, by `serve`), then unset, so that
// no plugin or child takes systemd's sockets for its own.
for (const name of LISTEN_VARIABLES) Deno.env.delete(name);
const encoder = new TextEncoder();
const writeAll = (file: typeof Deno.stdout, text: string) => {
  const data = encoder.encode(text);
  let off = 0;
  while (off < data.length) off += file.writeSync(data.subarray(off));
};
const io = {
  stdout: (text: string) => writeAll(Deno.stdout, text),
  stderr: (text: string) => writeAll(Deno.stderr, text),
  readStdin: async () => await new Response(Deno.stdin.readable).text(),
  env,
};

// With CNI_COMMAND set we were exec'd as a CNI plugin, not by a runtime.
if (env.CNI_COMMAND) {
  const { runPlugin } = await import("./plugin/run_plugin.ts");
  Deno.exit(
    await runPlugin(io, {
      frontEnd: async () => (await import("./cli/cni_plugin.ts")).runFrontEnd,
    }),
  );
}
const { runCli } = await import("./cli/run_cli.ts");
Deno.exit(await runCli(Deno.args, io));
