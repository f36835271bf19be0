// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task package [--out-dir DIR]`: builds `cnishim_<version>_<arch>.deb`
 * with Debian's own `dpkg-deb`.
 *
 * Contents: `/usr/bin/cnishim`, either the compiled single binary (when
 * `deno task compile` built one for this machine: `DENORT_BIN`) or the
 * bundle `/usr/lib/cnishim/cnishim.js` run by a private copy of the pinned
 * Deno runtime, `/usr/lib/cnishim/deno` (the one this task runs with, its
 * version checked against the pin): the package never uses a `deno` found on
 * PATH, and Debian has none. The ELF's shared-library dependencies come
 * from `dpkg-shlibdeps`. Also `/etc/cnishim/config.json` (a conffile);
 * example networks under `/usr/share/doc/cnishim/examples/` (never in
 * `/etc/cni/net.d`: installing must not change a node's default network);
 * the man page `cnishim.1`, rendered from the same tables as `--help`;
 * plugin-mode names in `/usr/lib/cni` (Debian's plugin dir) as links to
 * `/usr/bin/cnishim`, and `/usr/lib/cni/cnishim`, the runtime's front-end
 * plugin: the static C forwarder of `packaging/cni/cnishim_forwarder.c`,
 * compiled here with gcc (the task installs `gcc` and `libc6-dev` when
 * root); from `packaging/`, the systemd units
 * `cnishim.socket` and `cnishim.service` (not enabled: the operator turns
 * the warm mode on) and the OCI hook `cnishim.json` for the hooks.d of
 * podman and CRI-O (it acts only on containers annotated
 * `cnishim.io/network`).
 *
 * @module
 */
import { join } from "node:path";
import { buildVersion } from "./_version.ts";
import { DENO_VERSION, installedBundle } from "./_bundle.ts";
import { installParts } from "./_real_parts.ts";
import { PACKAGE_PARTS } from "./real_parts.ts";
import { FLAGS } from "../src/cli/flags.ts";
import { COMMANDS } from "../src/cli/command_table.ts";
import { PLUGIN_NAMES } from "../src/plugin/run_plugin.ts";
import { DEFAULT_SOCKET } from "../src/serve/protocol.ts";
import { frontEndPluginFiles } from "./_forwarder.ts";

const root = new URL("..", import.meta.url).pathname;
/** Where the bundle and its private runtime live. */
const LIB = "usr/lib/cnishim";
/**
 * Deno's own cache (V8 code cache, analysis caches) for the packaged bundle:
 * under /var/cache, not in the home of whoever runs it (root, for a
 * runtime). A user who cannot write it runs without the cache.
 */
const DENO_DIR = "var/cache/cnishim";
const i = Deno.args.indexOf("--out-dir");
const dist = i === -1 ? join(root, "dist") : Deno.args[i + 1]!;

async function sh(
  cmd: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return out.stdout;
}

/**
 * The `Depends` of an ELF, as `dpkg-shlibdeps` computes them (it wants a
 * debian/control naming the package, so one is made for it).
 */
async function sharedLibraryDepends(elf: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cnishim-shlibdeps-" });
  try {
    await Deno.mkdir(join(dir, "debian"));
    await Deno.writeTextFile(
      join(dir, "debian/control"),
      "Source: cnishim\n\nPackage: cnishim\nArchitecture: any\n",
    );
    const out = await new Deno.Command("dpkg-shlibdeps", {
      args: ["-O", `-e${elf}`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const line = new TextDecoder().decode(out.stdout).match(
      /^shlibs:Depends=(.+)$/m,
    );
    if (!out.success || !line) {
      throw new Error(
        `dpkg-shlibdeps ${elf} failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return line[1]!;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Troff for cnishim(1), from the tables `--help` uses. */
export function renderManPage(version: string): string {
  const esc = (s: string) =>
    s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^\./gm, "\\&.")
      .replace(/^'/gm, "\\&'");
  return [
    `.TH CNISHIM 1 "" "cnishim ${esc(version)}" "User Commands"`,
    ".SH NAME",
    "cnishim \\- the CNI front end a container runtime runs per pod sandbox",
    ".SH SYNOPSIS",
    ".B cnishim",
    ".I command",
    "[\\fIarguments\\fR] [\\fIflags\\fR]",
    ".SH DESCRIPTION",
    "cnishim loads the CNI network configs of a directory, runs each network's plugin chain for a pod",
    "(ADD in order, CHECK, DEL in reverse) and caches every result in libcni's format, so that DEL is",
    "idempotent and works after the config changed or the network namespace is gone.",
    "Output is JSON on stdout (a CNI error object on failure); messages go to stderr.",
    ".SH COMMANDS",
    ...COMMANDS.flatMap((
      c,
    ) => [
      ".TP",
      `.B ${esc(c.name)}${c.args ? ` ${esc(c.args)}` : ""}`,
      esc(c.summary),
    ]),
    ".SH OPTIONS",
    "Flags may stand before or after the command. Precedence: flag, then the environment variable",
    "CNISHIM_<FLAG> (upper case, dashes as underscores), then the config file, then the default.",
    ...FLAGS.flatMap((
      f,
    ) => [
      ".TP",
      `.B \\-\\-${esc(f.name)}${f.value ? ` \\fI${esc(f.value)}\\fR` : ""}`,
      esc(f.help),
    ]),
    ".SH EXIT STATUS",
    "0 on success, 1 for a CNI error (its code is in the error object), 2 for a usage error.",
    ".SH FILES",
    ".TP",
    ".I /etc/cnishim/config.json",
    "the shim's settings (keys as the long flags)",
    ".TP",
    ".I /etc/cni/net.d",
    "network configs (.conf, .conflist, .json), the first valid one being the default network",
    ".TP",
    ".I /var/lib/cni/results",
    "the result cache, shared with libcni",
    ".SH SEE ALSO",
    "The CNI specification; /usr/share/doc/cnishim/examples/ for an example network.",
    "",
  ].join("\n");
}

const parts = await installParts(PACKAGE_PARTS, "package");
if (parts.missing.length) {
  throw new Error(
    `package: needs ${
      parts.missing.join(", ")
    } (Debian: dpkg-dev); run as root to install it`,
  );
}
const version = await buildVersion();
const debVersion = version.replace(/[^A-Za-z0-9.+~]/g, ".");
const arch = new TextDecoder().decode(
  await sh("dpkg", ["--print-architecture"]),
).trim();
const target = `${
  Deno.build.arch === "aarch64" ? "aarch64" : "x86_64"
}-unknown-linux-gnu`;

// The binary for this machine if compile built one, else the bundle.
let payload: { path: string; isBundle: boolean } | undefined;
try {
  for await (const e of Deno.readDir(dist)) {
    if (e.name.startsWith("cnishim-") && e.name.endsWith(target)) {
      payload = { path: join(dist, e.name), isBundle: false };
    }
  }
} catch { /* no dist yet */ }
if (!payload) {
  const bundle = join(dist, "cnishim.js");
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(root, "scripts/compile.ts"),
      "--bundle-only",
      "--out-dir",
      dist,
    ],
  }).output();
  if (!built.success) {
    throw new Error(
      `cannot build the bundle: ${new TextDecoder().decode(built.stderr)}`,
    );
  }
  payload = { path: bundle, isBundle: true };
}

const stage = await Deno.makeTempDir({ prefix: "cnishim-deb-" });
await Deno.chmod(stage, 0o755);
try {
  const put = async (rel: string, data: string | Uint8Array, mode = 0o644) => {
    const path = join(stage, rel);
    await Deno.mkdir(join(path, ".."), { recursive: true, mode: 0o755 });
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
    await Deno.chmod(path, mode);
  };
  const gz = async (data: string) =>
    await sh("gzip", ["-9n"], new TextEncoder().encode(data));
  const doc = "usr/share/doc/cnishim";
  // Each explained: lintian's own policy check must pass with no warning.
  const overrides: string[] = [];
  let elf: string;
  if (payload.isBundle) {
    elf = `${LIB}/deno`;
    await put(elf, await Deno.readFile(Deno.execPath()), 0o755);
    const runs = new TextDecoder().decode(
      await sh(join(stage, elf), ["--version"]),
    ).split(/\s+/)[1];
    if (runs !== DENO_VERSION) {
      throw new Error(
        `package: ${Deno.execPath()} is Deno ${runs}, the pin is ${DENO_VERSION}: run 'npx -y deno@${DENO_VERSION} task package'`,
      );
    }
    await put(
      `${LIB}/cnishim.js`,
      installedBundle(await Deno.readTextFile(payload.path), `/${elf}`, {
        DENO_DIR: `/${DENO_DIR}`,
        DENO_NO_UPDATE_CHECK: "1",
      }),
      0o755,
    );
    await Deno.mkdir(join(stage, DENO_DIR), { recursive: true, mode: 0o755 });
    overrides.push(
      "# env -S is how the bundle's #! line passes deno run its flags",
      "cnishim: unusual-interpreter -S [usr/lib/cnishim/cnishim.js]",
      "# The private runtime is Deno's upstream release binary, shipped as",
      "# built (its version pinned and checked): the libraries Deno links in",
      "# statically and its link flags are upstream's, not this package's.",
      "cnishim: embedded-library lcms2 [usr/lib/cnishim/deno]",
      "cnishim: hardening-no-relro [usr/lib/cnishim/deno]",
    );
    await put(
      "DEBIAN/postrm",
      [
        "#!/bin/sh",
        "set -e",
        "# Deno's cache of the bundle, made at run time.",
        `if [ "$1" = purge ]; then rm -rf /${DENO_DIR}; fi`,
        "",
      ].join("\n"),
      0o755,
    );
    await Deno.mkdir(join(stage, "usr/bin"), { recursive: true });
    await Deno.symlink(
      "../lib/cnishim/cnishim.js",
      join(stage, "usr/bin/cnishim"),
    );
  } else {
    elf = "usr/bin/cnishim";
    await put(elf, await Deno.readFile(payload.path), 0o755);
  }
  await Deno.mkdir(join(stage, "usr/lib/cni"), { recursive: true });
  for (const name of PLUGIN_NAMES) {
    await Deno.symlink("../../bin/cnishim", join(stage, "usr/lib/cni", name));
  }
  // The front end a runtime execs per pod: a static C forwarder sends a
  // thick call to cnishim serve's socket, anything else execs
  // /usr/bin/cnishim.
  for (
    const f of await frontEndPluginFiles(["/usr/bin/cnishim"], DEFAULT_SOCKET)
  ) {
    await put(`usr/lib/cni/${f.name}`, f.data, f.mode);
  }
  overrides.push(
    "# The front-end plugin's forwarder is a static PIE on purpose: the",
    "# runtime execs it per call and the dynamic loader costs more than the",
    "# program. lintian takes an ET_DYN without NEEDED for a library.",
    "cnishim: shared-library-lacks-prerequisites [usr/lib/cni/cnishim]",
  );
  await put(
    "usr/share/lintian/overrides/cnishim",
    [...overrides, ""].join("\n"),
  );
  // Shipped as written in the repository (each has its own test).
  for (
    const [from, to] of [
      ["systemd/cnishim.socket", "usr/lib/systemd/system/cnishim.socket"],
      ["systemd/cnishim.service", "usr/lib/systemd/system/cnishim.service"],
      ["hooks.d/cnishim.json", "usr/share/containers/oci/hooks.d/cnishim.json"],
    ]
  ) {
    await put(to!, await Deno.readTextFile(join(root, "packaging", from!)));
  }
  await put(
    "etc/cnishim/config.json",
    await Deno.readTextFile(join(root, "conf/config.json")),
  );
  for await (const e of Deno.readDir(join(root, "conf/net.d"))) {
    await put(
      `${doc}/examples/${e.name}`,
      await Deno.readTextFile(join(root, "conf/net.d", e.name)),
    );
  }
  await put(
    "usr/share/man/man1/cnishim.1.gz",
    await gz(renderManPage(version)),
  );
  await put(
    `${doc}/changelog.gz`,
    await gz(
      `cnishim (${debVersion}) unstable; urgency=medium\n\n  * Build of ${version}.\n\n -- cnishim developers <cnishim@users.noreply.github.com>  ${
        new Date().toUTCString().replace(/GMT$/, "+0000")
      }\n`,
    ),
  );
  await put(
    `${doc}/copyright`,
    [
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
      "Upstream-Name: cnishim",
      "",
      "Files: *",
      "Copyright: 2026 cnishim developers",
      "License: Apache-2.0",
      " On Debian systems, the full text of the Apache License 2.0 is in",
      " /usr/share/common-licenses/Apache-2.0.",
      "",
    ].join("\n"),
  );
  const size = Number(
    new TextDecoder().decode(await sh("du", ["-sk", "--exclude=DEBIAN", stage]))
      .split("\t")[0],
  );
  await put("DEBIAN/conffiles", "/etc/cnishim/config.json\n");
  await put(
    "DEBIAN/control",
    [
      "Package: cnishim",
      `Version: ${debVersion}`,
      `Architecture: ${arch}`,
      "Maintainer: cnishim developers <cnishim@users.noreply.github.com>",
      `Installed-Size: ${size}`,
      `Depends: ${await sharedLibraryDepends(join(stage, elf))}`,
      "Recommends: containernetworking-plugins, curl",
      "Section: net",
      "Priority: optional",
      "Homepage: https://github.com/cnishim/cnishim",
      "Description: CNI front end for container runtimes",
      " cnishim runs the CNI plugin chains of a pod sandbox for a container",
      " runtime (command line, OCI hook, or warm server), with libcni's result",
      " cache, rollback of failed setups and cache-driven teardown.",
      ...(payload.isBundle
        ? [
          " .",
          ` The program is a bundle run by a private copy of the Deno ${DENO_VERSION}`,
          " runtime in /usr/lib/cnishim.",
        ]
        : []),
      "",
    ].join("\n"),
  );
  await Deno.mkdir(dist, { recursive: true });
  const deb = join(dist, `cnishim_${debVersion}_${arch}.deb`);
  await sh("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", stage, deb]);
  console.log(deb);
} finally {
  await Deno.remove(stage, { recursive: true });
}
