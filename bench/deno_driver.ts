// deno-lint-ignore-file no-console -- a driver prints like the Go driver
/**
 * Figure 8's Deno floor: the least a Deno program run once per call must
 * do to give a runtime what bench/libcni_driver gives it, so that the CLI's
 * distance to Go libcni splits into Deno's share and cnishim's. It takes
 * the lexically first network of the conf dir, runs its chain through
 * `Deno.Command` with each config on stdin (ADD in order with
 * `prevResult`, DEL in reverse), and keeps the result in a plain file for
 * DEL, as libcni's cache does (no fsync, no lock, no validation, no
 * write-ahead record: what cnishim adds on top is exactly what this leaves
 * out).
 *
 *     deno_driver.ts ADD|DEL CONF_DIR BIN_DIR CACHE_DIR CONTAINER_ID NETNS IFNAME [CAPABILITY_ARGS_JSON]
 *
 * @module
 */
const [command, confDir, binDir, cacheDir, containerId, netns, ifName, caps] =
  Deno.args;
if (!command || !ifName) {
  console.error(
    "usage: deno_driver.ts ADD|DEL CONF_DIR BIN_DIR CACHE_DIR CONTAINER_ID NETNS IFNAME [CAPABILITY_ARGS_JSON]",
  );
  Deno.exit(2);
}

interface Plugin {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}
interface List {
  name: string;
  cniVersion: string;
  plugins: Plugin[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const capabilityArgs = caps ? JSON.parse(caps) as Record<string, unknown> : {};
const list = await firstNetwork(confDir!);
const cacheFile = `${cacheDir}/${list.name}-${containerId}-${ifName}`;

if (command === "ADD") {
  let prev: unknown;
  for (const plugin of list.plugins) {
    prev = JSON.parse(await exec(plugin, prev));
  }
  await Deno.mkdir(cacheDir!, { recursive: true });
  await Deno.writeTextFile(cacheFile, JSON.stringify(prev));
  console.log(JSON.stringify(prev));
} else {
  const prev = JSON.parse(await Deno.readTextFile(cacheFile));
  for (const plugin of [...list.plugins].reverse()) await exec(plugin, prev);
  await Deno.remove(cacheFile);
}

async function firstNetwork(dir: string): Promise<List> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/\.(conflist|conf|json)$/.test(e.name)) names.push(e.name);
  }
  for (const name of names.sort()) {
    try {
      const value = JSON.parse(await Deno.readTextFile(`${dir}/${name}`));
      const list = value.plugins ? value : { ...value, plugins: [value] };
      if (list.plugins.length) return list as List;
    } catch {
      // the next file
    }
  }
  throw new Error(`no valid network in ${dir}`);
}

async function exec(plugin: Plugin, prevResult: unknown): Promise<string> {
  const runtimeConfig = Object.fromEntries(
    Object.entries(capabilityArgs).filter(([k]) => plugin.capabilities?.[k]),
  );
  const config = {
    ...plugin,
    name: list.name,
    cniVersion: list.cniVersion,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
  const child = new Deno.Command(`${binDir}/${plugin.type}`, {
    env: {
      CNI_COMMAND: command!,
      CNI_CONTAINERID: containerId!,
      CNI_NETNS: netns!,
      CNI_IFNAME: ifName!,
      CNI_PATH: binDir!,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(JSON.stringify(config)));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `${plugin.type} ${command}: ${decoder.decode(out.stdout)}${
        decoder.decode(out.stderr)
      }`,
    );
  }
  return decoder.decode(out.stdout);
}
