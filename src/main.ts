/**
 * The binary's entry: the only module that reads `Deno.args` and the
 * process environment, or calls `Deno.exit`.
 *
 * @module
 */
const env = Deno.env.toObject();
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
  Deno.exit(await runPlugin(io));
}
const { runCli } = await import("./cli/run_cli.ts");
Deno.exit(await runCli(Deno.args, io));
