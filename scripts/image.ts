// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * `deno task image [--out-dir DIR] [--node-bin-dir DIR] [--socket PATH] [--keep-rootfs DIR]`:
 * builds the DaemonSet's OCI image `localhost/cnishim:<version>` offline and
 * saves it as an OCI archive, `dist/cnishim-image_<build>_<arch>.tar`;
 * prints its path (stdout) and size (stderr).
 *
 * The root filesystem holds what the .deb carries and nothing else: the
 * pinned Deno runtime `/usr/lib/cnishim/deno`, the bundle
 * `/usr/lib/cnishim/cnishim.js`, the shared libraries `ldd` lists for the
 * runtime (and the dynamic loader), `/etc/cnishim/config.json`, and the
 * payload `cnishim install` copies to a node (`/usr/lib/cnishim/node`: the
 * front-end plugin's files, `frontEndPluginFiles`, the list the .deb's
 * `/usr/lib/cni` comes from, and `payload.json`). No shell, no package
 * manager. The bundle's `#!` line runs it by the runtime's path on the node
 * (`<node-bin-dir>/cnishim-deno`): the same file serves the image (whose
 * entrypoint runs the runtime on it) and the node.
 *
 * Built with Debian's podman (`FROM scratch`, one COPY), every state dir
 * private to the run, then removed.
 *
 * @module
 */
import { join } from "node:path";
import { buildVersion } from "./_version.ts";
import {
  DENO_VERSION,
  IMAGE_ENTRYPOINT,
  installedBundle,
  LIB_DIR,
} from "./_bundle.ts";
import { frontEndPluginFiles } from "./_forwarder.ts";
import { installParts } from "./_real_parts.ts";
import { IMAGE_PARTS } from "./real_parts.ts";
import { Podman } from "./_podman.ts";
import { DEFAULT_SOCKET } from "../src/serve/protocol.ts";
import {
  DEFAULT_PAYLOAD_DIR,
  PAYLOAD_MANIFEST,
} from "../src/install/payload.ts";

const root = new URL("..", import.meta.url).pathname;
const option = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i === -1 ? undefined : Deno.args[i + 1];
};
const dist = option("--out-dir") ?? join(root, "dist");
const nodeBinDir = option("--node-bin-dir") ?? "/opt/cni/bin";
const keepRootfs = option("--keep-rootfs");
// The socket the forwarder forwards thick calls for (cnishim serve's).
const socket = option("--socket") ?? DEFAULT_SOCKET;
if (!nodeBinDir.startsWith("/")) {
  throw new Error(`image: --node-bin-dir "${nodeBinDir}" is not absolute`);
}
const LIB = LIB_DIR;
const DENO_DIR = "/var/cache/cnishim";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${
        d.decode(out.stderr)
      }`,
    );
  }
  return d.decode(out.stdout);
}

/** The absolute paths `ldd` lists for `elf`: its libraries and the loader. */
export async function sharedLibraries(elf: string): Promise<string[]> {
  const paths = new Set<string>();
  for (const line of (await run("ldd", [elf])).split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) paths.add(m[1]!);
  }
  return [...paths];
}

const parts = await installParts(IMAGE_PARTS, "image");
if (parts.missing.length) {
  throw new Error(
    `image: needs ${
      parts.missing.join(", ")
    } (Debian: podman); run as root to install it`,
  );
}
const runs = (await run(Deno.execPath(), ["--version"])).split(/\s+/)[1];
if (runs !== DENO_VERSION) {
  throw new Error(
    `image: ${Deno.execPath()} is Deno ${runs}, the pin is ${DENO_VERSION}: run 'npx -y deno@${DENO_VERSION} task image'`,
  );
}
const version = await buildVersion();
// The manifests in deploy/ name `localhost/cnishim:<deno.json's version>`;
// the build's full version is the image's label and the archive's name.
const tag = JSON.parse(await Deno.readTextFile(join(root, "deno.json")))
  .version as string;
const fileTag = version.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 128);
const arch = (await run("dpkg", ["--print-architecture"])).trim();

const work = await Deno.makeTempDir({ prefix: "cnishim-image-" });
const podman = await Podman.create(join(work, "podman"));
try {
  await run(Deno.execPath(), [
    "run",
    "-A",
    join(root, "scripts/compile.ts"),
    "--bundle-only",
    "--out-dir",
    join(work, "bundle"),
  ]);
  const rootfs = join(work, "context/rootfs");
  const put = async (path: string, data: Uint8Array, mode: number) => {
    const to = join(rootfs, path);
    await Deno.mkdir(join(to, ".."), { recursive: true, mode: 0o755 });
    await Deno.writeFile(to, data, { mode });
    await Deno.chmod(to, mode);
  };
  const runtime = `${LIB}/deno`;
  await put(runtime, await Deno.readFile(Deno.execPath()), 0o755);
  const bundle = `${LIB}/cnishim.js`;
  await put(
    bundle,
    new TextEncoder().encode(installedBundle(
      await Deno.readTextFile(join(work, "bundle/cnishim.js")),
      `${nodeBinDir}/cnishim-deno`,
      { DENO_NO_UPDATE_CHECK: "1" },
    )),
    0o755,
  );
  for (const lib of await sharedLibraries(Deno.execPath())) {
    await put(lib, await Deno.readFile(lib), 0o755);
  }
  await put(
    "/etc/cnishim/config.json",
    await Deno.readFile(join(root, "conf/config.json")),
    0o644,
  );
  // The node's files: the runtime and bundle (by their image paths, not
  // staged twice), then the front end the runtime execs, last.
  const plugin = await frontEndPluginFiles(
    [`${nodeBinDir}/cnishim.js`],
    socket,
  );
  for (const f of plugin) {
    await put(`${DEFAULT_PAYLOAD_DIR}/${f.name}`, f.data, f.mode);
  }
  await put(
    `${DEFAULT_PAYLOAD_DIR}/${PAYLOAD_MANIFEST}`,
    new TextEncoder().encode(
      JSON.stringify(
        {
          nodeBinDir,
          files: [
            { name: "cnishim-deno", mode: 0o755, from: runtime },
            { name: "cnishim.js", mode: 0o755, from: bundle },
            ...plugin.map((f) => ({ name: f.name, mode: f.mode })),
          ],
        },
        null,
        2,
      ) + "\n",
    ),
    0o644,
  );
  await Deno.mkdir(join(rootfs, DENO_DIR), { recursive: true, mode: 0o755 });
  // Runtimes name a pod's netns /var/run/netns/…, as on the node.
  await Deno.symlink("../run", join(rootfs, "var/run"));
  await Deno.mkdir(join(rootfs, "tmp"), { recursive: true });
  await Deno.chmod(join(rootfs, "tmp"), 0o1777);
  await Deno.writeTextFile(
    join(work, "context/Containerfile"),
    [
      "FROM scratch",
      "COPY rootfs/ /",
      `ENV DENO_DIR=${DENO_DIR} DENO_NO_UPDATE_CHECK=1`,
      `LABEL org.opencontainers.image.title=cnishim org.opencontainers.image.version=${
        JSON.stringify(version)
      }`,
      `ENTRYPOINT ${JSON.stringify(IMAGE_ENTRYPOINT)}`,
      `CMD ["install"]`,
      "",
    ].join("\n"),
  );
  const name = `localhost/cnishim:${tag}`;
  await podman.must([
    "build",
    "--timestamp",
    "0",
    "--network",
    "none",
    "-t",
    name,
    join(work, "context"),
  ]);
  await Deno.mkdir(dist, { recursive: true });
  const archive = join(dist, `cnishim-image_${fileTag}_${arch}.tar`);
  await Deno.remove(archive).catch(() => {});
  await podman.must(["save", "--format", "oci-archive", "-o", archive, name]);
  if (keepRootfs) {
    await run("cp", ["-a", rootfs, keepRootfs]);
  }
  const size = (await Deno.stat(archive)).size;
  console.error(
    `image: ${name}, ${
      (size / 1e6).toFixed(1)
    } MB (OCI archive; ${nodeBinDir} on the node)`,
  );
  console.log(archive);
} finally {
  await podman.cleanup();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
