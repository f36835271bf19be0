/**
 * One real pod through `cnishim serve`: Debian's bridge, host-local and
 * loopback plugins in a real namespace, added, checked and
 * pinged through the socket, deleted by the plain CLI, and nothing left.
 *
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { expectExit, runCli } from "../_helpers/run_cli.ts";
import { createNetns, ping } from "../_helpers/netns.ts";
import { randomHex } from "../_helpers/shell.ts";
import { TestBed } from "../_helpers/test_bed.ts";
import { startServe } from "./_serve.ts";

Deno.test({
  name:
    "serve e2e: a real pod added and checked through the socket gets its address and reaches the bridge; a CLI del leaves nothing",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    const net = await bed.addBridgeNetwork();
    await using ns = await createNetns("css");
    const id = `serve-${randomHex(8)}`;
    await using server = await startServe(
      `${bed.root}/run/cnishim.sock`,
      bed.globalFlags,
    );
    const via = (args: string[]) =>
      runCli(["--socket", server.socket, ...args]);

    let added = false;
    try {
      await podThroughServer();
    } catch (error) {
      if (added) await bed.cli(["del", id, ns.path]); // best effort
      throw error;
    }
    equal((await server.stop()).code, 0);
    await bed.assertNoLeaks([id]);

    async function podThroughServer() {
      const add = await via(["add", id, ns.path]);
      added = true;
      expectExit(add, 0, "add through serve");
      const out = add.json<
        { primaryIP: string; networks: { name: string }[] }
      >();
      equal(out.primaryIP, `${net.subnet.base}.2`);
      deepEqual(out.networks.map((n) => n.name), [net.name]);
      match(
        (await ns.exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]))
          .stdout,
        new RegExp(`inet ${net.subnet.base.replaceAll(".", "\\.")}\\.2/24`),
      );
      await ping(ns, net.subnet.gateway);

      const check = await via(["check", id, ns.path]);
      expectExit(check, 0, "check through serve");

      // The plain CLI tears down what the server set up: one cache.
      const del = await bed.cli(["del", id, ns.path]);
      expectExit(del, 0, "del by the CLI");
      deepEqual(
        del.json<{ removed: { network: string }[] }>().removed.map((r) =>
          r.network
        ).sort(),
        ["cni-loopback", net.name].sort(),
      );
    }
  },
});
