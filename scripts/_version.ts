/**
 * The build version: deno.json's version, plus `git describe` when the
 * tree is a checkout (`0.1.0+g1a2b3c4`, a valid Debian version too).
 *
 * @module
 */
const root = new URL("..", import.meta.url).pathname;

/** The version baked into builds and packages. */
export async function buildVersion(): Promise<string> {
  const base = JSON.parse(await Deno.readTextFile(`${root}deno.json`))
    .version as string;
  try {
    const out = await new Deno.Command("git", {
      args: ["describe", "--always", "--dirty=.dirty"],
      cwd: root,
      stderr: "null",
    }).output();
    const describe = new TextDecoder().decode(out.stdout).trim();
    return out.success && describe
      ? `${base}+g${describe.replace(/[^A-Za-z0-9.]/g, ".")}`
      : base;
  } catch {
    return base;
  }
}
