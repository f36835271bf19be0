/**
 * podman end to end through the hooks.d file the .deb ships
 * (packaging/hooks.d/cnishim.json): Debian's podman 4.3 with runc,
 * `--network none` and the test's hooks dir runs `cnishim hook` on
 * prestart and poststop for containers annotated `cnishim.io/network`,
 * with Debian's real plugins. Every podman state dir is the test's own
 * (`--root`, `--runroot`, `--tmpdir`, …) and removed at the end, and so
 * are the two host paths podman 4.3 creates whatever it is told
 * (`/run/containers/networks`, `/var/lib/containers/cache`) when they were
 * not there before.
 *
 * @module
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { mustSh, randomHex } from "../_helpers/shell.ts";
import { Podman } from "../../scripts/_podman.ts";
import { TestBed } from "../_helpers/test_bed.ts";
import { containerIpv4, containerPing } from "../_helpers/netns.ts";
import { baseEnv, cliCommand, REPO_ROOT } from "../_helpers/run_cli.ts";

const SHIPPED_HOOK = `${REPO_ROOT}/packaging/hooks.d/cnishim.json`;
Deno.test("the shipped hooks.d file: OCI hooks schema 1.0.0, cnishim hook on prestart and poststop, for containers annotated cnishim.io/network", async () => {
  const hook = JSON.parse(await Deno.readTextFile(SHIPPED_HOOK));
  deepEqual(hook, {
    version: "1.0.0",
    hook: {
      path: "/usr/bin/cnishim",
      args: ["cnishim", "hook"],
      timeout: 90,
    },
    when: { annotations: { "^cnishim\\.io/network$": ".*" } },
    stages: ["prestart", "poststop"],
  });
});

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** A rootfs tarball: /bin/busybox and a link per applet. */
async function busyboxTarball(dir: string): Promise<string> {
  const rootfs = `${dir}/rootfs`;
  await Deno.mkdir(`${rootfs}/bin`, { recursive: true });
  await Deno.copyFile("/bin/busybox", `${rootfs}/bin/busybox`);
  await Deno.chmod(`${rootfs}/bin/busybox`, 0o755);
  const applets = (await mustSh(["/bin/busybox", "--list"])).split("\n")
    .map((a) => a.trim()).filter((a) => a && a !== "busybox");
  for (const a of applets) await Deno.symlink("busybox", `${rootfs}/bin/${a}`);
  const tar = `${dir}/rootfs.tar`;
  await mustSh(["tar", "-C", rootfs, "-cf", tar, "."]);
  return tar;
}

Deno.test({
  name:
    "e2e podman: the hooks.d file gives two annotated containers addresses on the network the annotation names, they reach each other, and podman rm leaves nothing",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    await using bed = await TestBed.create();
    // The default network (first file) and the one the annotation names.
    const fallback = await bed.addBridgeNetwork({ order: "10" });
    const named = await bed.addBridgeNetwork({ order: "20" });
    const dir = `${bed.root}/podman`;
    const hooks = `${dir}/hooks.d`;
    await Deno.mkdir(hooks, { recursive: true });
    // The shipped file, with the shim under test and this bed's settings.
    const shipped = JSON.parse(await Deno.readTextFile(SHIPPED_HOOK));
    const [cmd, ...lead] = cliCommand();
    await Deno.writeTextFile(
      `${hooks}/cnishim.json`,
      JSON.stringify({
        ...shipped,
        hook: {
          ...shipped.hook,
          path: cmd,
          args: [cmd, ...lead, "hook", ...bed.globalFlags],
          env: Object.entries(baseEnv()).map(([k, v]) => `${k}=${v}`),
        },
      }),
    );
    const podman = await Podman.create(dir, hooks);
    const image = `localhost/cnishim-busybox:${randomHex(4)}`;
    const names = [`pm-a-${randomHex(4)}`, `pm-b-${randomHex(4)}`];
    const ids: string[] = [];
    try {
      await podman.must(["import", await busyboxTarball(dir), image]);
      for (const name of names) {
        ids.push(
          await podman.must([
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            "--annotation",
            `cnishim.io/network=${named.name}`,
            // busybox ping needs a raw socket.
            "--cap-add",
            "NET_RAW",
            image,
            "/bin/sleep",
            "600",
          ]),
        );
      }
      // Not annotated: the hook does not run, only loopback.
      const plain = await podman.must([
        "run",
        "--rm",
        "--network",
        "none",
        image,
        "/bin/ip",
        "-o",
        "link",
      ]);
      deepEqual(plain.split("\n").map((l) => l.split(":")[1]?.trim()), [
        "lo",
      ]);

      const ips: string[] = [];
      for (const name of names) {
        ips.push(
          await containerIpv4(
            (argv) => podman.must(["exec", name, ...argv]),
            ["/bin/ip"],
          ),
        );
      }
      // From the annotation's network, not the default one.
      deepEqual(ips, [`${named.subnet.base}.2`, `${named.subnet.base}.3`]);
      notEqual(named.subnet.base, fallback.subnet.base);
      for (const id of ids) {
        ok(await exists(`${bed.cacheDir}/results/${named.name}-${id}-eth0`));
      }

      await containerPing(
        (argv) => podman.must(["exec", names[1]!, ...argv]),
        ips[0]!,
      );

      // poststop runs when the container stops; rm removes what is left.
      await podman.must(["stop", "-t", "0", ...names]);
      await podman.must(["rm", ...names]);
      await bed.assertNoLeaks(ids);
      equal((await podman.must(["ps", "-a", "-q"])).length, 0);
    } finally {
      await podman.run(["rm", "-f", "-t", "0", ...names]);
      await podman.run(["rmi", "-f", image]);
      await podman.cleanup();
    }
  },
});
