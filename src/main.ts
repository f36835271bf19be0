/**
 * The binary's entry: the only module that reads `Deno.args` and the
 * process environment, or calls `Deno.exit`.
 *
 * @module
 */
import { LISTEN_VARIABLES } from "./serve/activation.ts";
import { OUTPUT_LOST_EXIT_CODE } from "./spec/render_failure.ts";
import { errorText } from "./spec/errors.ts";

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
// A write error (a full disk, a closed pipe) is caught here, once per
// stream, and never thrown into the command: an `add` whose result cannot
// be printed has still set the pod up, and a failure path must not run
// again (writing stdout a second time) because stderr was full. Later
// writes to a broken stream are dropped.
const lost = new Map<"stdout" | "stderr", string>();
const guarded =
  (name: "stdout" | "stderr", file: typeof Deno.stdout) => (text: string) => {
    if (lost.has(name)) return;
    try {
      writeAll(file, text);
    } catch (error) {
      lost.set(name, errorText(error));
    }
  };
const io = {
  stdout: guarded("stdout", Deno.stdout),
  stderr: guarded("stderr", Deno.stderr),
  readStdin: async () => await new Response(Deno.stdin.readable).text(),
  env,
};
// The status says that output was lost, not that the operation failed; the
// one stderr line (when stderr can take it) gives the command's own status.
const exit = (status: number): never => {
  if (lost.size === 0) Deno.exit(status);
  const why = [...lost].map(([name, msg]) => `${name}: ${msg}`).join("; ");
  io.stderr(
    `cnishim: output lost (${why}); the command itself ended with exit status ${status}\n`,
  );
  Deno.exit(OUTPUT_LOST_EXIT_CODE);
};

// With CNI_COMMAND set we were exec'd as a CNI plugin, not by a runtime.
if (env.CNI_COMMAND) {
  const { runPlugin } = await import("./plugin/run_plugin.ts");
  exit(
    await runPlugin(io, {
      frontEnd: async () => (await import("./cli/cni_plugin.ts")).runFrontEnd,
    }),
  );
}
const { runCli } = await import("./cli/run_cli.ts");
exit(await runCli(Deno.args, io));
