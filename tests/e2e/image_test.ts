/**
 * The DaemonSet's image end to end: `deno task image` builds it (for this
 * test's node bin dir and socket), podman loads the OCI archive, and
 *
 * - its root filesystem is what the .deb carries and nothing else: no
 *   shell, no package manager;
 * - `podman run` with temp host dirs bind-mounted at `/host/...` installs
 *   exactly as the command does (the payload's bytes, the conflist of the
 *   primary), and a second run writes nothing;
 * - the installed front end (the runtime's exec of `<bin>/cnishim` with
 *   the installed conflist's plugin config) runs a real pod on Debian's
 *   bridge + host-local and deletes it, leaving nothing;
 * - thick: the image run as `serve` (host network, privileged, the host
 *   dirs and the socket's dir bound at their node paths, as the manifest
 *   binds /run/cnishim) answers the installed
 *   front end, and when it is stopped the front end runs the calls itself.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { addressesIn, createNetns } from "../_helpers/netns.ts";
import { execPlugin, type PluginRun } from "../_helpers/front_end_plugin.ts";
import { explain, REPO_ROOT, runCli } from "../_helpers/run_cli.ts";
import { mustSh, randomHex } from "../_helpers/shell.ts";
import { REAL_BIN_DIR, TestBed } from "../_helpers/test_bed.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { Podman } from "../../scripts/_podman.ts";
import { Containerd } from "./_containerd.ts";
import { assertNoLeaks } from "../_helpers/leak_check.ts";

const VERSION = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`))
  .version as string;

const enc = new TextEncoder();
const note = (line: string) => Deno.stderr.writeSync(enc.encode(`${line}\n`));

async function sha(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function tree(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(dir, base))) {
    const rel = `${base}/${e.name}`;
    if (e.isDirectory) out.push(...await tree(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

Deno.test({
  name:
    "e2e image: built FROM scratch with no shell; podman run installs as the command does; the installed front end runs a real pod, thin and through the image's serve, and falls back when it stops",
  ignore: SKIP_REAL_PARTS,
  // The CRI client's gRPC channel outlives a step.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await requireRealParts();
    await using bed = await TestBed.create();
    const hostBin = join(bed.root, "bin");
    const run = join(bed.root, "run-cnishim");
    await Deno.mkdir(hostBin);
    await Deno.mkdir(run);
    const socket = join(run, "cnishim.sock");
    // The node's own plugins, copied (a link into /usr/lib/cni would not
    // resolve inside the serve container).
    for (const p of ["bridge", "host-local", "loopback"]) {
      await Deno.copyFile(join(REAL_BIN_DIR, p), join(hostBin, p));
      await Deno.chmod(join(hostBin, p), 0o755);
    }
    const primary = await bed.addBridgeNetwork({ order: "10" });
    const out = join(bed.root, "dist");
    const rootfs = join(bed.root, "rootfs");
    const built = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(REPO_ROOT, "scripts/image.ts"),
        "--out-dir",
        out,
        "--node-bin-dir",
        hostBin,
        "--socket",
        socket,
        "--keep-rootfs",
        rootfs,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    equal(built.code, 0, d.decode(built.stderr));
    const archive = d.decode(built.stdout).trim();
    note(`image: ${(await Deno.stat(archive)).size} bytes (${archive})`);

    const podman = await Podman.create(join(bed.root, "podman"));
    const serveName = `cnishim-serve-${randomHex(6)}`;
    try {
      const loaded = await podman.must(["load", "-i", archive]);
      const image = /Loaded image: (\S+)/.exec(loaded)![1]!;

      await t.step(
        "the root filesystem: the .deb's program, its libraries, the payload; no shell, no package manager",
        async () => {
          const libs = (await mustSh(["ldd", Deno.execPath()])).split("\n")
            .map((l) =>
              (/=>\s*(\/\S+)/.exec(l) ?? /^\s*(\/\S+)\s+\(/.exec(l))?.[1]
            )
            .filter((l): l is string => !!l);
          deepEqual(
            await tree(rootfs),
            [
              "/etc/cnishim/config.json",
              "/usr/lib/cnishim/cnishim.js",
              "/usr/lib/cnishim/deno",
              "/usr/lib/cnishim/node/cnishim",
              "/usr/lib/cnishim/node/payload.json",
              "/var/run",
              ...libs,
            ].sort(),
          );
          const sh = await podman.run([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            "true",
          ]);
          ok(sh.code !== 0);
          match(sh.stderr, /no such file or directory/);
        },
      );

      const hostConf = bed.confDir;
      const cache = bed.cacheDir;
      // As the manifests' install containers run: read-only root, no
      // capabilities, no privilege escalation, Deno's cache an emptyDir.
      const installRun = [
        "run",
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--tmpfs",
        "/var/cache/cnishim",
        "-v",
        `${hostBin}:/host/opt/cni/bin`,
        "-v",
        `${hostConf}:/host/etc/cni/net.d`,
        image,
      ];
      const installArgs = (thick: boolean) => [
        ...installRun,
        "install",
        "--once",
        "--node-conf-dir",
        hostConf,
        "--node-cache-dir",
        cache,
        "--wait-primary",
        "60s",
        ...(thick ? ["--thick", "--socket", socket] : []),
      ];
      const conflist = join(hostConf, "00-cnishim.conflist");

      await t.step(
        "podman run installs as the command does; again, it writes nothing",
        async () => {
          const t0 = performance.now();
          const child = new Deno.Command("podman", {
            args: [...podman.globals, ...installArgs(false)],
            env: { CONTAINERS_CONF: `${podman.dir}/containers.conf` },
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          const shown = await waitFor(
            () => Deno.stat(conflist).then(() => true, () => false),
            60_000,
            "the conflist",
          );
          const done = await child.output();
          equal(done.code, 0, d.decode(done.stderr));
          note(
            `image: install took ${
              Math.round(shown)
            } ms (podman run -> conflist written, primary present); the container ended after ${
              Math.round(performance.now() - t0)
            } ms`,
          );
          equal(
            await sha(join(hostBin, "cnishim-deno")),
            await sha(join(rootfs, "usr/lib/cnishim/deno")),
          );
          equal(
            await sha(join(hostBin, "cnishim.js")),
            await sha(join(rootfs, "usr/lib/cnishim/cnishim.js")),
          );
          equal(
            await sha(join(hostBin, "cnishim")),
            await sha(join(rootfs, "usr/lib/cnishim/node/cnishim")),
          );
          deepEqual(JSON.parse(await Deno.readTextFile(conflist)), {
            cniVersion: "1.0.0",
            name: "cnishim",
            plugins: [{
              type: "cnishim",
              confDir: hostConf,
              binDir: hostBin,
              cacheDir: cache,
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
          // The command itself, on the image's payload (its paths moved to
          // the kept rootfs), into other host dirs: the same bytes.
          const payload = join(bed.root, "payload");
          await Deno.mkdir(payload);
          const described = JSON.parse(
            await Deno.readTextFile(
              join(rootfs, "usr/lib/cnishim/node/payload.json"),
            ),
          );
          for (const f of described.files) {
            if (f.from) f.from = join(rootfs, f.from);
            else {
              await Deno.copyFile(
                join(rootfs, "usr/lib/cnishim/node", f.name),
                join(payload, f.name),
              );
            }
          }
          await Deno.writeTextFile(
            join(payload, "payload.json"),
            JSON.stringify(described),
          );
          const cmdBin = join(bed.root, "cmd-bin");
          const cmdConf = join(bed.root, "cmd-conf");
          await Deno.mkdir(cmdBin);
          await Deno.mkdir(cmdConf);
          await Deno.copyFile(
            primary.file,
            join(cmdConf, "10-primary.conflist"),
          );
          const cmd = await runCli([
            "install",
            "--once",
            "--payload-dir",
            payload,
            "--host-bin-dir",
            cmdBin,
            "--host-conf-dir",
            cmdConf,
            "--node-conf-dir",
            hostConf,
            "--node-cache-dir",
            cache,
          ]);
          equal(cmd.code, 0, explain(cmd));
          for (const n of ["cnishim-deno", "cnishim.js", "cnishim"]) {
            equal(await sha(join(cmdBin, n)), await sha(join(hostBin, n)), n);
          }
          equal(
            await Deno.readTextFile(join(cmdConf, "00-cnishim.conflist")),
            await Deno.readTextFile(conflist),
          );
          equal(
            await Deno.readTextFile(join(cmdBin, ".cnishim-install.json")),
            await Deno.readTextFile(join(hostBin, ".cnishim-install.json")),
          );
          // The readiness probe agrees.
          await podman.must([
            ...installRun,
            "install",
            "--check",
            "--node-conf-dir",
            hostConf,
            "--node-cache-dir",
            cache,
          ]);
          const before = (await Deno.stat(join(hostBin, "cnishim-deno"))).ino;
          const mtime = (await Deno.stat(conflist)).mtime?.getTime();
          await podman.must(installArgs(false));
          equal((await Deno.stat(join(hostBin, "cnishim-deno"))).ino, before);
          equal((await Deno.stat(conflist)).mtime?.getTime(), mtime);
        },
      );

      // The runtime's exec of the installed plugin with the conflist's config.
      const call = async (
        command: string,
        id: string,
        netns: string,
      ): Promise<PluginRun> => {
        const list = JSON.parse(await Deno.readTextFile(conflist));
        const { plugins: [plugin], ...top } = list;
        return await execPlugin(join(hostBin, "cnishim"), {
          CNI_COMMAND: command,
          CNI_CONTAINERID: id,
          CNI_NETNS: netns,
          CNI_IFNAME: "eth0",
          CNI_ARGS:
            `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id};K8S_POD_INFRA_CONTAINER_ID=${id}`,
          CNI_PATH: hostBin,
        }, JSON.stringify({ ...top, ...plugin, runtimeConfig: {} }));
      };
      const pod = async (id: string, expect: (r: PluginRun) => void) => {
        await using ns = await createNetns("i23");
        const add = await call("ADD", id, ns.path);
        equal(add.code, 0, explain(add));
        const result = JSON.parse(add.stdout);
        equal(result.cniVersion, "1.0.0");
        match(result.ips[0].address, new RegExp(`^${primary.subnet.base}\\.`));
        deepEqual(await addressesIn(ns, "eth0"), [result.ips[0].address]);
        expect(add);
        const del = await call("DEL", id, ns.path);
        equal(del.code, 0, explain(del));
        expect(del);
        // The runtime's second DEL, without the netns.
        equal((await call("DEL", id, "")).code, 0);
        await bed.assertNoLeaks([id]);
      };

      await t.step(
        "the installed front end (thin) runs a real pod and deletes it",
        async () => {
          await pod(`i23-thin-${randomHex(6)}`, (r) => equal(r.stderr, ""));
        },
      );

      await t.step(
        "containerd's CRI runs a sandbox through the installed conflist, and ctr imports the image archive under the manifests' name",
        async () => {
          await using ctrd = await Containerd.start({
            binDir: hostBin,
            confDir: hostConf,
            dir: join(bed.root, "containerd"),
          });
          const name = `pod-${randomHex(6)}`;
          const id = await ctrd.runPodSandbox({
            metadata: { name, uid: crypto.randomUUID(), namespace: "default" },
            hostname: name,
          });
          const status = await ctrd.cri.podSandboxStatus(id);
          equal(status.status.state, "SANDBOX_READY");
          match(
            status.status.network?.ip ?? "",
            new RegExp(`^${primary.subnet.base.replaceAll(".", "\\.")}\\.`),
          );
          // The front end's own record of the pod, in the installed cacheDir.
          ok(
            await Deno.stat(join(cache, "cnishim/pods", `${id}.json`)).then(
              () => true,
              () => false,
            ),
          );
          await ctrd.stopAndRemove(id);
          await bed.assertNoLeaks([id]);
          assertNoLeaks(await ctrd.leaks([id]));
          await ctrd.ctr(["images", "import", archive]);
          const images = await ctrd.ctr(["images", "ls", "-q"]);
          ok(
            images.split("\n").includes(`localhost/cnishim:${VERSION}`),
            images,
          );
        },
      );

      await t.step(
        "thick: the image's serve answers the installed front end; stopped, the front end runs the calls itself",
        async () => {
          await podman.must(installArgs(true));
          equal(
            JSON.parse(await Deno.readTextFile(conflist)).plugins[0].socket,
            socket,
          );
          await podman.must([
            "run",
            "-d",
            "--name",
            serveName,
            "--network",
            "host",
            "--privileged",
            "-v",
            `${run}:${run}`,
            "-v",
            `${hostBin}:${hostBin}`,
            "-v",
            `${bed.root}:${bed.root}`,
            "-v",
            "/run/netns:/run/netns:rslave",
            image,
            "serve",
            "--socket",
            socket,
            "--cni-conf-dir",
            hostConf,
            "--cni-bin-dir",
            hostBin,
            "--cni-cache-dir",
            cache,
          ]);
          await waitFor(
            () =>
              Deno.stat(socket).then((s) => s.isSocket === true, () => false),
            30_000,
            "serve's socket",
          );
          const requests = async () => {
            const m = await mustSh([
              "curl",
              "-s",
              "--unix-socket",
              socket,
              "http://cnishim/metrics",
            ]);
            return m.split("\n").filter((l) =>
              l.startsWith('cnishim_requests_total{operation="cni"')
            ).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
          };
          const served = await requests();
          // Through the server: no fallback warning.
          await pod(`i23-thick-${randomHex(6)}`, (r) => equal(r.stderr, ""));
          ok(await requests() >= served + 3, "the server took the calls");
          const pid = await podman.must([
            "inspect",
            "-f",
            "{{.State.Pid}}",
            serveName,
          ]);
          const status = await Deno.readTextFile(`/proc/${pid}/status`);
          note(
            `image: serve after a pod: VmRSS ${
              /VmRSS:\s+(\d+)/.exec(status)?.[1]
            } kB, VmHWM ${/VmHWM:\s+(\d+)/.exec(status)?.[1]} kB`,
          );

          await podman.must(["stop", "-t", "10", serveName]);
          await pod(
            `i23-fall-${randomHex(6)}`,
            (r) => match(r.stderr, /did not take the (ADD|DEL).*in-process/),
          );
        },
      );
    } finally {
      await podman.run(["rm", "-f", "-t", "0", serveName]);
      await podman.cleanup();
    }
  },
});
