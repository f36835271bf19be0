/**
 * `cnishim install` and `cnishim uninstall` against temp host dirs, the
 * CLI under test run as a DaemonSet's container runs it: the conflist it
 * writes, and every fault of the anchors' installers (a binary the
 * runtime is executing, no primary network yet, a primary replaced,
 * renamed or removed under a running install, a second install, files it
 * did not write, a crash between steps).
 *
 * @module
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { collect, InstallBed, names } from "./_install_bed.ts";
import { expectExit, explain } from "../_helpers/run_cli.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { ignoreWithout, requirePart } from "../_helpers/prerequisites.ts";

const BUSYBOX = "/bin/busybox";
const enc = new TextEncoder();
const script = (text: string) => enc.encode(`#!/bin/sh\n${text}\n`);

async function sha(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const readJson = async (path: string) =>
  JSON.parse(await Deno.readTextFile(path));

Deno.test("install: the payload in the host bin dir with its modes, then 00-cnishim.conflist naming the node's conf dir, the primary's cniVersion and the front end's capabilities; --thick adds the socket", async () => {
  await using bed = await InstallBed.create();
  await bed.stage([
    { name: "cnishim-lib.txt", data: enc.encode("data\n"), mode: 0o644 },
    { name: "cnishim", data: script("exit 0") },
  ], "/opt/cni/bin");
  await bed.primary("10-flannel.conflist", "0.4.0");
  const run = await bed.run([
    "install",
    "--once",
    "--node-conf-dir",
    "/etc/cni/net.d",
  ]);
  expectExit(run, 0);
  const report = run.json<{ primary: { name: string; cniVersion: string } }>();
  deepEqual(report.primary.name, "flannel");
  equal(
    (await Deno.stat(join(bed.bin, "cnishim"))).mode! & 0o777,
    0o755,
  );
  equal(
    (await Deno.stat(join(bed.bin, "cnishim-lib.txt"))).mode! & 0o777,
    0o644,
  );
  deepEqual(await readJson(bed.conflist), {
    cniVersion: "0.4.0",
    name: "cnishim",
    plugins: [{
      type: "cnishim",
      confDir: "/etc/cni/net.d",
      binDir: "/opt/cni/bin",
      capabilities: {
        portMappings: true,
        bandwidth: true,
        ips: true,
        mac: true,
        dns: true,
        "io.kubernetes.cri.pod-annotations": true,
      },
    }],
  });
  equal((await Deno.stat(bed.conflist)).mode! & 0o777, 0o644);
  // --check agrees; cnishim itself skips its own file and finds the primary.
  expectExit(await bed.run(["install", "--check"]), 0);
  const nets = (await bed.run(["networks", "--cni-conf-dir", bed.conf]))
    .json<{ defaultNetwork: string; skipped: { file: string }[] }>();
  equal(nets.defaultNetwork, "flannel");
  deepEqual(nets.skipped.map((s) => s.file), [bed.conflist]);

  const thick = await bed.run([
    "install",
    "--once",
    "--thick",
    "--socket",
    "/run/cnishim/cnishim.sock",
    "--node-conf-dir",
    "/etc/cni/net.d",
    "--node-cache-dir",
    "/var/lib/cni/cnishim",
  ]);
  expectExit(thick, 0);
  const plugin = (await readJson(bed.conflist)).plugins[0];
  equal(plugin.socket, "/run/cnishim/cnishim.sock");
  equal(plugin.cacheDir, "/var/lib/cni/cnishim");
  // The readiness probe now says the file is not the thin one.
  const check = await bed.run(["install", "--check"]);
  expectExit(check, 1);
  match(check.stderr, /does not follow/);
});

Deno.test("install: bad input is named and changes nothing", async () => {
  await using bed = await InstallBed.create();
  await bed.primary();
  // No payload.json.
  let run = await bed.run(["install", "--once"]);
  expectExit(run, 1);
  match(run.stderr, /payload\.json/);
  await bed.stage([{ name: "../x", data: script("") }]);
  run = await bed.run(["install", "--once"]);
  expectExit(run, 1);
  match(run.stderr, /"files"\[0\]/);
  await bed.stage([{ name: "cnishim", data: script("") }]);
  run = await bed.run(["install", "--once", "--wait-primary", "soon"]);
  expectExit(run, 2);
  match(run.stderr, /--wait-primary/);
  run = await bed.run(["install", "--once", "--node-conf-dir", "etc/cni"]);
  expectExit(run, 2);
  match(run.stderr, /--node-conf-dir/);
  deepEqual(await names(bed.bin), []);
  deepEqual(await names(bed.conf), ["10-flannel.conflist"]);
});

Deno.test({
  name:
    "install: a binary being executed is replaced by rename (writing over it fails with ETXTBSY); the running process keeps the old inode",
  ignore: ignoreWithout(BUSYBOX),
  async fn() {
    await requirePart(BUSYBOX);
    await using bed = await InstallBed.create();
    await bed.primary();
    // busybox runs the applet its file is named after.
    const old = join(bed.bin, "sleep");
    await Deno.copyFile(BUSYBOX, old);
    await Deno.chmod(old, 0o755);
    const oldIno = (await Deno.stat(old)).ino;
    const runner = new Deno.Command(old, {
      args: ["60"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(
        async () =>
          (await Deno.readLink(`/proc/${runner.pid}/exe`).catch(() => "")) ===
            old,
        5000,
        "the old binary running",
      );
      // What `cp` over it does: the test can fail.
      const err = await Deno.open(old, { write: true }).then(
        (f) => (f.close(), undefined),
        (e: Error) => e,
      );
      ok(err, "writing a running binary should fail");
      match(String((err as Error).message), /busy|ETXTBSY/i);

      const fresh = new Uint8Array(await Deno.readFile(BUSYBOX));
      await bed.stage([{
        name: "sleep",
        data: new Uint8Array([...fresh, 0x0a]),
      }]);
      const run = await bed.run(["install", "--once"]);
      expectExit(run, 0);
      const now = await Deno.stat(old);
      notEqual(now.ino, oldIno);
      equal(now.size, fresh.length + 1);
      // Still running, from the old (now unlinked) file.
      equal(
        await Deno.readLink(`/proc/${runner.pid}/exe`),
        `${old} (deleted)`,
      );
      // And the new one runs.
      const ran = await new Deno.Command(old, { args: ["0"] }).output();
      ok(ran.success);
    } finally {
      try {
        runner.kill("SIGKILL");
      } catch { /* it ended: the assertions above say why */ }
      await runner.status;
    }
  },
});

Deno.test("install: no primary network yet: waits, says so every 10 s, writes the conflist when one appears (cnishim's own file is never one); bounded by --wait-primary", async () => {
  await using bed = await InstallBed.create(true);
  await bed.stage([{ name: "cnishim", data: script("exit 0") }]);
  // Nothing comes: bounded, code 50, binaries in place, no conflist.
  const none = await bed.run(["install", "--once", "--wait-primary", "1s"]);
  expectExit(none, 1);
  equal(none.json<{ code: number }>().code, 50);
  match(none.stderr, /No primary network .* does not exist/);
  deepEqual(await names(bed.bin), [".cnishim-install.json", "cnishim"]);

  const child = bed.spawn(["install", "--once", "--wait-primary", "60s"]);
  const err: string[] = [];
  const out: string[] = [];
  const reading = Promise.all([
    collect(child.stderr, err),
    collect(child.stdout, out),
  ]);
  await Deno.mkdir(bed.conf, { recursive: true });
  // A conflist of cnishim itself (a leftover) is no primary.
  await Deno.writeTextFile(
    join(bed.conf, "05-other-cnishim.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "x",
      plugins: [{ type: "cnishim" }],
    }),
  );
  await waitFor(
    () =>
      Promise.resolve(err.some((l) => /waiting for a primary network/.test(l))),
    20_000,
    "the progress line",
  );
  ok(!(await Deno.lstat(bed.conflist).then(() => true, () => false)));
  await bed.primary("10-flannel.conflist", "0.3.1");
  const status = await child.status;
  await reading;
  equal(status.code, 0, err.join("\n"));
  match(err.find((l) => /waiting/.test(l))!, /\(1\ds of 1m0s\)/);
  equal((await readJson(bed.conflist)).cniVersion, "0.3.1");
});

Deno.test("install without --once: the conflist follows the primary replaced, renamed and removed, each logged, and a removed file is copied again; SIGTERM ends it with 0", async () => {
  await using bed = await InstallBed.create();
  await bed.stage([{ name: "cnishim", data: script("exit 0") }]);
  const first = await bed.primary("10-flannel.conflist", "0.4.0");
  const child = bed.spawn(["install"]);
  const err: string[] = [];
  const reading = Promise.all([
    collect(child.stderr, err),
    collect(child.stdout, []),
  ]);
  const version = async () =>
    await readJson(bed.conflist).then((c) => c.cniVersion, () => undefined);
  try {
    await waitFor(async () => await version() === "0.4.0", 20_000, "0.4.0");
    // Replaced in place.
    await bed.primary("10-flannel.conflist", "1.0.0");
    await waitFor(async () => await version() === "1.0.0", 10_000, "1.0.0");
    // Renamed to another file and network.
    await Deno.remove(first);
    await bed.primary("20-calico.conflist", "1.1.0", "k8s-pod-network");
    await waitFor(async () => await version() === "1.1.0", 10_000, "1.1.0");
    // Removed: the conflist goes too, and comes back with a primary.
    await Deno.remove(join(bed.conf, "20-calico.conflist"));
    await waitFor(
      async () => await version() === undefined,
      10_000,
      "conflist removed",
    );
    await bed.primary("10-flannel.conflist", "0.4.0");
    await waitFor(async () => await version() === "0.4.0", 10_000, "back");
    // A payload file gone from the node is copied again.
    await Deno.remove(join(bed.bin, "cnishim"));
    await waitFor(
      () => Deno.stat(join(bed.bin, "cnishim")).then(() => true, () => false),
      10_000,
      "cnishim copied again",
    );
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await reading;
  equal(status.code, 0, err.join("\n"));
  const log = err.join("\n");
  match(log, /conflist written.*"cniVersion":"1\.0\.0"/);
  match(log, /conflist written.*"primary":"k8s-pod-network"/);
  match(log, /primary network gone; conflist removed/);
  match(log, /copied again \(it was gone\)/);
});

Deno.test("install, a second time with nothing changed, writes nothing (same inodes and mtimes everywhere); a changed primary rewrites only the conflist", async () => {
  await using bed = await InstallBed.create();
  await bed.stage([
    { name: "cnishim-deno", from: Deno.execPath() },
    { name: "cnishim", data: script("exit 0") },
  ]);
  await bed.primary();
  expectExit(await bed.run(["install", "--once"]), 0);
  const snap = async () => {
    const out: Record<string, string> = {};
    for (const dir of [bed.bin, bed.conf]) {
      out[dir] = String((await Deno.stat(dir)).mtime?.getTime());
      for (const n of await names(dir)) {
        const s = await Deno.stat(join(dir, n));
        out[join(dir, n)] = `${s.ino} ${s.mtime?.getTime()} ${s.size}`;
      }
    }
    return out;
  };
  const before = await snap();
  equal(await sha(join(bed.bin, "cnishim-deno")), await sha(Deno.execPath()));
  const again = await bed.run(["install", "--once"]);
  expectExit(again, 0);
  const report = again.json<
    { files: { written: boolean }[]; conflist: { written: boolean } }
  >();
  deepEqual(report.files.map((f) => f.written), [false, false]);
  equal(report.conflist.written, false);
  deepEqual(await snap(), before);

  await bed.primary("10-flannel.conflist", "0.4.0");
  expectExit(await bed.run(["install", "--once"]), 0);
  const after = await snap();
  for (const [k, v] of Object.entries(before)) {
    if (
      k === bed.conflist || k === bed.conf || k.endsWith("flannel.conflist")
    ) {
      continue;
    }
    equal(after[k], v, k);
  }
  notEqual(after[bed.conflist], before[bed.conflist]);
});

Deno.test("uninstall removes the conflist first, then what the manifest lists, and nothing it did not write; again, or with no install, it removes nothing", async () => {
  await using bed = await InstallBed.create();
  await bed.stage([
    { name: "cnishim-extra", data: script("exit 0") },
    { name: "cnishim", data: script("exit 0") },
  ]);
  const primary = await bed.primary();
  // The node's own plugins and a file named like cnishim's, not written by it.
  await Deno.writeTextFile(join(bed.bin, "bridge"), "bridge\n");
  await Deno.writeTextFile(join(bed.bin, "cnishim-mine"), "mine\n");
  await Deno.writeTextFile(join(bed.conf, "99-mine.conf"), "{}\n");
  const nothing = await bed.run(["uninstall"]);
  expectExit(nothing, 0);
  deepEqual(nothing.json(), { removed: [], absent: [] });

  expectExit(await bed.run(["install", "--once"]), 0);
  const run = await bed.run(["uninstall"]);
  expectExit(run, 0);
  deepEqual(run.json<{ removed: string[] }>().removed, [
    bed.conflist,
    join(bed.bin, "cnishim-extra"),
    join(bed.bin, "cnishim"),
    join(bed.bin, ".cnishim-install.json"),
  ]);
  deepEqual(await names(bed.bin), ["bridge", "cnishim-mine"]);
  deepEqual(await names(bed.conf), ["10-flannel.conflist", "99-mine.conf"]);
  equal(await Deno.readTextFile(join(bed.bin, "cnishim-mine")), "mine\n");
  ok((await Deno.stat(primary)).isFile);
  deepEqual((await bed.run(["uninstall"])).json(), {
    removed: [],
    absent: [],
  });
});

Deno.test("install killed at any point leaves each file old or new, never half, and no config a runtime would load; the next install completes and sweeps its temp files; uninstall after a kill removes what was listed", async () => {
  await using bed = await InstallBed.create();
  // Big enough that a kill lands mid-copy.
  const big = (seed: number) => {
    const b = new Uint8Array(24 << 20);
    for (let i = 0; i < b.length; i += 4096) b[i] = (i / 4096 + seed) & 0xff;
    return b;
  };
  await bed.stage([
    { name: "cnishim-big", data: big(1) },
    { name: "cnishim", data: script("echo old") },
  ]);
  await bed.primary("10-flannel.conflist", "0.4.0");
  expectExit(await bed.run(["install", "--once"]), 0);
  const oldText = await Deno.readTextFile(bed.conflist);
  const old = {
    big: await sha(join(bed.bin, "cnishim-big")),
    fwd: await sha(join(bed.bin, "cnishim")),
  };
  await bed.stage([
    { name: "cnishim-big", data: big(2) },
    { name: "cnishim", data: script("echo new") },
  ]);
  await bed.primary("10-flannel.conflist", "1.0.0");
  const fresh = {
    big: await sha(join(bed.payload, "cnishim-big")),
    fwd: await sha(join(bed.payload, "cnishim")),
  };
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const child = bed.spawn(["install", "--once"]);
    const out = Promise.all([
      collect(child.stdout, []),
      collect(child.stderr, []),
    ]);
    await new Promise((r) => setTimeout(r, 150 + 60 * i));
    try {
      child.kill("SIGKILL");
    } catch { /* it had finished */ }
    await child.status;
    await out;
    const bigNow = await sha(join(bed.bin, "cnishim-big"));
    const fwd = await sha(join(bed.bin, "cnishim"));
    ok(
      bigNow === old.big || bigNow === fresh.big,
      `kill ${i}: cnishim-big is half`,
    );
    ok(fwd === old.fwd || fwd === fresh.fwd, `kill ${i}: cnishim is half`);
    const text = await Deno.readTextFile(bed.conflist);
    ok(
      text === oldText || JSON.parse(text).cniVersion === "1.0.0",
      `kill ${i}: conflist is ${text}`,
    );
    // Nothing but whole configs with a config extension in the conf dir.
    for (const n of await names(bed.conf)) {
      ok(
        /^\.cnishim-.*\.tmp$/.test(n) || n === "00-cnishim.conflist" ||
          n === "10-flannel.conflist",
        `kill ${i}: ${n} in the conf dir`,
      );
    }
    seen.add(`${bigNow === fresh.big} ${fwd === fresh.fwd}`);
    // Back to the old state for the next round.
    await Deno.writeFile(join(bed.bin, "cnishim-big"), big(1));
    await Deno.writeFile(join(bed.bin, "cnishim"), script("echo old"));
    await Deno.writeTextFile(bed.conflist, oldText);
  }
  // The kills landed before, during and after the copies.
  ok(seen.size >= 2, `kills all landed at one point: ${[...seen]}`);
  const done = await bed.run(["install", "--once"]);
  expectExit(done, 0, explain(done));
  equal(await sha(join(bed.bin, "cnishim-big")), fresh.big);
  equal(await sha(join(bed.bin, "cnishim")), fresh.fwd);
  equal(JSON.parse(await Deno.readTextFile(bed.conflist)).cniVersion, "1.0.0");
  for (const dir of [bed.bin, bed.conf]) {
    deepEqual((await names(dir)).filter((n) => n.endsWith(".tmp")), []);
  }
  const un = await bed.run(["uninstall"]);
  expectExit(un, 0);
  deepEqual(await names(bed.bin), []);
  deepEqual(await names(bed.conf), ["10-flannel.conflist"]);
});
