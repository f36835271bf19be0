/**
 * A `--socket` path longer than sun_path allows (107 bytes) is refused at
 * start, by `serve` and by the client side, as a usage error naming the
 * flag and the limit; one of exactly 107 bytes is served and reachable.
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { bedFor, startServe } from "./_serve.ts";

/** A path under `dir` of exactly `bytes` bytes. */
function pathOf(dir: string, bytes: number): string {
  const name = "s".repeat(bytes - dir.length - 1);
  ok(name.length > 0);
  return join(dir, name);
}

Deno.test("a --socket path over 107 bytes is a usage error naming the flag and the limit, for serve and for the client", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  const dir = join(fake.root, "run");
  const long = pathOf(dir, 108);
  const served = await runCli(["serve", "--socket", long, ...bed.flags]);
  equal(served.code, 2, explain(served));
  match(served.stderr, /--socket.*108 bytes.*at most 107 \(sun_path\)/);
  equal(await Deno.stat(dir).catch(() => undefined), undefined, "no dir made");
  for (const argv of [["add", "c1", "/proc/self/ns/net"], ["metrics"]]) {
    const client = await runCli(["--socket", long, ...argv]);
    equal(client.code, 2, explain(client));
    match(client.stderr, /--socket.*at most 107/);
  }
});

Deno.test("a --socket path of exactly 107 bytes is served and reachable", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  const socket = pathOf(join(fake.root, "run"), 107);
  await using server = await startServe(socket, bed.flags);
  const r = await runCli(["--socket", socket, "networks"]);
  equal(r.code, 0, explain(r));
  match(r.stdout, /n1/);
  equal((await server.stop()).code, 0);
  equal(await Deno.lstat(socket).catch(() => undefined), undefined);
});
