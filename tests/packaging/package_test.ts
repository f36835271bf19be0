import { equal, ok } from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  requireRealParts,
  SKIP_REAL_PARTS,
} from "../_helpers/prerequisites.ts";
import { reserveSubnet } from "../_helpers/test_bed.ts";
import { PLUGIN_NAMES } from "../../src/plugin/run_plugin.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = Deno.execPath();
const DEC = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: DEC.decode(out.stdout),
    stderr: DEC.decode(out.stderr),
  };
}

async function must(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const r = await run(cmd, args, env);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${r.code}: ${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * Runs `cmd` with `vars` as its whole environment (`env -i`), as a runtime
 * that starts the shim with a clean environment does: nothing of the test
 * runner's environment, its PATH to deno included, leaks in.
 */
function mustBare(
  cmd: string,
  args: string[],
  vars: Record<string, string>,
): Promise<string> {
  return must("env", [
    "-i",
    ...Object.entries(vars).map(([k, v]) => `${k}=${v}`),
    cmd,
    ...args,
  ]);
}

async function treeDigest(dir: string): Promise<string> {
  const r = await run("sh", [
    "-c",
    `cd "${dir}" 2>/dev/null && find . -exec stat -c '%n %s %Y %a' {} + | sort | sha256sum`,
  ]);
  return r.stdout;
}

Deno.test({
  name:
    "compile fails fast with the DENORT_BIN message when the runtime download is unreachable, and the bundle it built maps a stack to the sources",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "cnishim-compile-" });
    try {
      // `deno bundle` fetches esbuild from the npm registry on its first use;
      // fetch it before the dead proxy below cuts every download off.
      await must(DENO, [
        "run",
        "-A",
        join(ROOT, "scripts/compile.ts"),
        "--bundle-only",
        "--out-dir",
        out,
      ]);
      const started = performance.now();
      // A proxy on a closed loopback port makes the download fail the same way on any machine.
      const r = await run(DENO, [
        "run",
        "-A",
        join(ROOT, "scripts/compile.ts"),
        "--target",
        "x86_64-unknown-linux-gnu",
        "--out-dir",
        out,
      ], {
        COMPILE_TIMEOUT_MS: "30000",
        HTTPS_PROXY: "http://127.0.0.1:9",
        HTTP_PROXY: "http://127.0.0.1:9",
        DENORT_BIN: "",
      });
      const seconds = (performance.now() - started) / 1000;
      equal(r.code, 1, r.stderr);
      ok(
        r.stderr.includes("Set DENORT_BIN to a local denort binary"),
        r.stderr,
      );
      ok(r.stderr.includes("denort-x86_64-unknown-linux-gnu.zip"), r.stderr);
      ok(seconds < 90, `took ${seconds} s`);
      // The bundle is still built and runs.
      const version = JSON.parse(
        await must(join(out, "cnishim.js"), ["version"], {
          PATH: `${dirname(DENO)}:/usr/bin:/bin`,
        }),
      );
      ok(/^\d+\.\d+\.\d+\+g/.test(version.version), version.version);
      // Names are not kept in the bundle: an internal failure's stack (here
      // a write to a full stdout) is mapped to the sources by the map
      // beside it.
      const crashed = await run("sh", [
        "-c",
        '"$0" version >/dev/full',
        join(out, "cnishim.js"),
      ], { PATH: `${dirname(DENO)}:/usr/bin:/bin`, NO_COLOR: "1" });
      ok(crashed.code !== 0, crashed.stderr);
      ok(
        /\(file:\/\/\S*\/src\/main\.ts:\d+:\d+\)/.test(crashed.stderr),
        crashed.stderr,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the .deb installs, runs a pod through /usr/bin/cnishim, and removes cleanly",
  ignore: SKIP_REAL_PARTS,
  async fn() {
    await requireRealParts();
    const installed = await run("dpkg-query", [
      "-W",
      "-f=${Status}",
      "cnishim",
    ]);
    if (installed.stdout.includes("install ok installed")) {
      throw new Error(
        "a cnishim package is already installed on this machine; remove it first (dpkg -r cnishim)",
      );
    }
    const tmp = await Deno.makeTempDir({ prefix: "cnishim-deb-test-" });
    const ns = `cnishim-deb-${crypto.randomUUID().slice(0, 6)}`;
    const bridge = `csd${crypto.randomUUID().slice(0, 5)}`;
    const netDigest = await treeDigest("/etc/cni/net.d");
    await using subnet = await reserveSubnet();
    // No deno on this PATH (this machine may have one in /usr/bin): the
    // package must bring its own runtime. /usr/sbin has iptables for portmap.
    const env = { PATH: "/usr/sbin:/sbin" };
    for (const dir of env.PATH.split(":")) {
      equal(
        await Deno.stat(join(dir, "deno")).then(() => true, () => false),
        false,
        `${dir}/deno exists: the test needs a PATH without deno`,
      );
    }
    try {
      const deb = (await must(DENO, [
        "run",
        "-A",
        join(ROOT, "scripts/package.ts"),
        "--out-dir",
        join(tmp, "dist"),
      ])).trim().split("\n").pop()!;
      // Debian's own policy checker: no error or warning (each override is
      // explained in the package's overrides file).
      await must("lintian", ["--fail-on", "error,warning", deb]);
      await must("dpkg", ["-i", deb]);
      const v = JSON.parse(
        await mustBare("/usr/bin/cnishim", ["version"], env),
      );
      ok(v.cniVersions.includes("1.1.0"));
      ok(
        (await Deno.readTextFile("/etc/cnishim/config.json")).includes(
          "cni-bin-dir",
        ),
      );
      await Deno.stat("/usr/share/man/man1/cnishim.1.gz");
      // The systemd units and the hooks.d file, as written in packaging/.
      for (
        const [installed, source] of [
          ["/usr/lib/systemd/system/cnishim.socket", "systemd/cnishim.socket"],
          [
            "/usr/lib/systemd/system/cnishim.service",
            "systemd/cnishim.service",
          ],
          [
            "/usr/share/containers/oci/hooks.d/cnishim.json",
            "hooks.d/cnishim.json",
          ],
        ]
      ) {
        equal(
          await Deno.readTextFile(installed!),
          await Deno.readTextFile(join(ROOT, "packaging", source!)),
          installed,
        );
      }
      // The plugin-mode names answer VERSION as CNI plugins, and so does
      // the front end's forwarder, exec'ing /usr/bin/cnishim.
      for (const name of [...PLUGIN_NAMES, "cnishim"]) {
        const answer = JSON.parse(
          await mustBare(`/usr/lib/cni/${name}`, [], {
            ...env,
            CNI_COMMAND: "VERSION",
          }),
        );
        ok(answer.supportedVersions.includes("1.1.0"), name);
      }

      // A throwaway network from the packaged example, on its own bridge and subnet.
      const example = JSON.parse(
        await Deno.readTextFile(
          "/usr/share/doc/cnishim/examples/10-cnishim.conflist",
        ),
      );
      example.plugins[0].bridge = bridge;
      example.plugins[0].ipam = {
        type: "host-local",
        dataDir: join(tmp, "ipam"),
        ranges: [[{ subnet: subnet.cidr }]],
      };
      await Deno.mkdir(join(tmp, "net.d"));
      await Deno.writeTextFile(
        join(tmp, "net.d", "10-deb.conflist"),
        JSON.stringify(example),
      );
      await must("ip", ["netns", "add", ns]);
      const flags = [
        "--cni-conf-dir",
        join(tmp, "net.d"),
        "--cni-cache-dir",
        join(tmp, "cache"),
        "--cni-bin-dir",
        "/usr/lib/cni",
      ];
      const add = JSON.parse(
        await mustBare("/usr/bin/cnishim", [
          "add",
          "debpod",
          `/var/run/netns/${ns}`,
          ...flags,
        ], env),
      );
      equal(add.primaryIP, `${subnet.base}.2`, JSON.stringify(add));
      await mustBare("/usr/bin/cnishim", [
        "check",
        "debpod",
        `/var/run/netns/${ns}`,
        ...flags,
      ], env);
      await mustBare("/usr/bin/cnishim", [
        "del",
        "debpod",
        `/var/run/netns/${ns}`,
        ...flags,
      ], env);
      const left = await run("sh", [
        "-c",
        `ls ${join(tmp, "cache", "results")} 2>/dev/null; ls ${
          join(tmp, "ipam", example.name)
        } 2>/dev/null | grep -v -e lock -e last_reserved`,
      ]);
      equal(left.stdout.trim(), "", "nothing cached or allocated after del");

      await must("dpkg", ["-r", "cnishim"]);
      equal(
        await run("test", ["-e", "/usr/bin/cnishim"]).then((r) => r.code),
        1,
        "/usr/bin/cnishim is gone",
      );
      for (const name of [...PLUGIN_NAMES, "cnishim"]) {
        equal(
          (await run("test", ["-e", `/usr/lib/cni/${name}`])).code,
          1,
          `/usr/lib/cni/${name} is gone`,
        );
      }
      equal(
        await treeDigest("/etc/cni/net.d"),
        netDigest,
        "/etc/cni/net.d untouched",
      );
      // Deno's cache of the bundle, made by the runs above, goes with purge.
      await must("dpkg", ["--purge", "cnishim"]);
      for (const path of ["/usr/lib/cnishim", "/var/cache/cnishim"]) {
        equal((await run("test", ["-e", path])).code, 1, `${path} is gone`);
      }
    } finally {
      await run("dpkg", ["--purge", "cnishim"]);
      await run("ip", ["netns", "del", ns]);
      await run("ip", ["link", "del", bridge]);
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
