/**
 * A FIFO in the conf dir or its parent under `cnishim serve`: Deno's file
 * watcher blocks opening it (its watcher thread compares every event's
 * path by opening it), so change detection is left to the periodic
 * rescan, which skips the FIFO without opening it; SIGTERM still stops
 * the server after `stopped`, whatever the watcher does.
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { bedFor, rawHttp, startServe, writeNetwork } from "./_serve.ts";
import { waitFor } from "../_helpers/wait_for.ts";

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  ok(out.success, new TextDecoder().decode(out.stderr));
}

// Settles within `ms`, or says it did not.
function within<T>(ms: number, call: Promise<T>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    call.then((value) => ({ value })),
    new Promise<{ late: true }>((resolve) => {
      timer = setTimeout(() => resolve({ late: true }), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("cnishim serve with FIFOs made in its conf dir and its parent: a conf file still picked up, the FIFO skipped, SIGTERM exits after `stopped`", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await using server = await startServe(bed.socket, [
    ...bed.flags,
    "--log-level",
    "info",
  ]);
  // Made while watched: each is an event whose path the watcher opens.
  await mkfifo(join(bed.conf, "05-fifo.conflist"));
  await mkfifo(join(fake.root, "parent.fifo"));
  await writeNetwork(bed.conf, "20-n2.conflist", { name: "n2", types: ["a"] });
  using http = rawHttp(bed.socket);
  const networks = async () => {
    const res = await http.post("/v1/networks", '{"args":[]}');
    return await res.json() as {
      networks: { name: string }[];
      skipped: { file: string; reason: string }[];
    };
  };
  // The periodic rescan (5 s) finds what the blocked watcher cannot report.
  await waitFor(
    async () => (await networks()).networks.some((n) => n.name === "n2"),
    12_000,
    "network n2 loaded",
  );
  const listed = await networks();
  const fifo = listed.skipped.find((s) => s.file.endsWith("05-fifo.conflist"));
  match(fifo?.reason ?? "", /FIFO/, JSON.stringify(listed.skipped));
  const started = performance.now();
  const exit = await within(15_000, server.stop());
  ok("value" in exit, "serve exits within 15 s of SIGTERM");
  equal(exit.value.code, 0, exit.value.stderr);
  match(exit.value.stderr, /info stopped/);
  ok(performance.now() - started < 15_000);
});
