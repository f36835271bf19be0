/**
 * The built-in static IPAM against Debian's `/usr/lib/cni/static` (the
 * reference plugin, containernetworking-plugins 1.1.1): every row runs
 * through both as a real process with the same CNI_* environment and stdin,
 * and must give the same exit status and JSON-equal stdout.
 *
 * Normalised, and only this: an error object of cnishim carries the spec's
 * `cniVersion` key, which Go's skel leaves out, so it is dropped before the
 * comparison; rows marked `msg` compare everything but the error text
 * (V8's and Go's JSON syntax-error wording); rows marked `details` compare
 * everything but `details` (the supported-version list, where cnishim adds
 * 1.1.0). Intended divergences (VERSION, a 1.1.0 config, GC/STATUS) have
 * their own tests below.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { baseEnv, cliCommand } from "../_helpers/run_cli.ts";
import { spawnWithStdin } from "../_helpers/shell.ts";

const REFERENCE = "/usr/lib/cni/static";
const HAS_REFERENCE = await Deno.stat(REFERENCE).then(() => true, () => false);
const IN_CI = Deno.env.get("CI") === "true";

interface Row {
  name: string;
  command?: string;
  cniArgs?: string;
  stdin: unknown;
  env?: Record<string, string>;
  normalise?: "msg" | "details";
}

interface Run {
  code: number;
  stdout: unknown;
}

const CALL_ENV = {
  CNI_CONTAINERID: "c0ffee",
  CNI_NETNS: "/proc/self/ns/net",
  CNI_IFNAME: "eth0",
  CNI_PATH: "/usr/lib/cni",
};

function conf(version: string | undefined, ipam: unknown, extra = {}) {
  return {
    ...(version === undefined ? {} : { cniVersion: version }),
    name: "diffnet",
    type: "bridge",
    ...(ipam === undefined ? {} : { ipam }),
    ...extra,
  };
}

const V4V6 = {
  type: "cnishim-static",
  addresses: [
    { address: "10.1.0.5/24", gateway: "10.1.0.1" },
    { address: "fd00::5/64", gateway: "fd00::1" },
  ],
  routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0", gw: "fd00::1" }],
  dns: { nameservers: ["10.1.0.53"], domain: "example.org", search: ["a.b"] },
};
const ONE = {
  type: "cnishim-static",
  addresses: [{ address: "10.1.0.5/24", gateway: "10.1.0.1" }],
};
const PREV = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eth0", sandbox: "/x" }],
  ips: [{ address: "10.1.0.5/24", gateway: "10.1.0.1", interface: 0 }],
};

const ROWS: Row[] = [
  { name: "config v4+v6, routes, dns at 1.0.0", stdin: conf("1.0.0", V4V6) },
  { name: "config v4+v6 at 0.2.0", stdin: conf("0.2.0", V4V6) },
  { name: "config at 0.3.0", stdin: conf("0.3.0", V4V6) },
  { name: "config at 0.3.1", stdin: conf("0.3.1", ONE) },
  { name: "config at 0.4.0", stdin: conf("0.4.0", V4V6) },
  { name: "no cniVersion means 0.1.0", stdin: conf(undefined, ONE) },
  {
    name: "CNI_ARGS IP= appends, GATEWAY= only reaches CNI_ARGS addresses",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IP=10.2.0.5/24,fd01::3/64;GATEWAY=10.2.0.1,10.1.0.99",
  },
  {
    name: "CNI_ARGS spaces, a gateway inside two subnets",
    stdin: conf("1.0.0", { type: "cnishim-static" }),
    cniArgs: "IP= 10.2.0.5/24 , 10.2.0.6/16;GATEWAY=10.2.0.1, 10.2.200.1",
  },
  {
    name: "args.cni.ips replaces config and CNI_ARGS",
    stdin: conf("1.0.0", ONE, {
      args: { cni: { ips: ["10.3.0.5/24", "fd03::1/64"] } },
    }),
    cniArgs: "IP=10.2.0.5/24;GATEWAY=10.2.0.1",
  },
  {
    name: "runtimeConfig.ips replaces config, CNI_ARGS and args",
    stdin: conf("1.0.0", ONE, {
      args: { cni: { ips: ["10.3.0.5/24"] } },
      runtimeConfig: { ips: ["10.4.0.5/24", "fd04::5/64"] },
    }),
    cniArgs: "IP=10.2.0.5/24;GATEWAY=10.4.0.1",
  },
  {
    name: "empty ips lists are no source",
    stdin: conf("1.0.0", ONE, {
      args: { cni: { ips: [] } },
      runtimeConfig: { ips: [] },
    }),
  },
  {
    name: "IgnoreUnknown lets kubelet keys through",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IgnoreUnknown=1;K8S_POD_NAME=web-0;IP=10.2.0.5/24",
  },
  {
    name: "unknown CNI_ARGS key without IgnoreUnknown",
    stdin: conf("1.0.0", ONE),
    cniArgs: "K8S_POD_NAME=web-0;IP=10.2.0.5/24",
  },
  {
    name: "bad IgnoreUnknown value",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IgnoreUnknown=Yes;X=1",
  },
  {
    name: "CNI_ARGS pair without =",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IP=10.2.0.5/24;junk",
  },
  {
    name: "bad CIDR in config",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [{ address: "10.1.0.5" }],
    }),
  },
  {
    name: "IPv4 with a leading zero is not a CIDR",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [{ address: "010.1.0.5/24" }],
    }),
  },
  {
    name: "prefix over 32",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [{ address: "10.1.0.5/33" }],
    }),
  },
  {
    name: "bad CIDR in CNI_ARGS",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IP=10.2.0.5",
  },
  {
    name: "bad CIDR in args.cni.ips",
    stdin: conf("1.0.0", ONE, { args: { cni: { ips: ["10.3.0.5"] } } }),
  },
  {
    name: "bad CIDR in runtimeConfig.ips",
    stdin: conf("1.0.0", ONE, { runtimeConfig: { ips: ["bogus"] } }),
  },
  {
    name: "bad GATEWAY in CNI_ARGS",
    stdin: conf("1.0.0", ONE),
    cniArgs: "IP=10.2.0.5/24;GATEWAY=nope",
  },
  {
    name: "bad gateway in config",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [{ address: "10.1.0.5/24", gateway: "x" }],
    }),
  },
  {
    name: "bad route dst",
    stdin: conf("1.0.0", { ...ONE, routes: [{ dst: "nope" }] }),
  },
  {
    name: "routes keep host bits, a route without dst, attributes dropped",
    stdin: conf("1.0.0", {
      ...ONE,
      routes: [
        { dst: "10.9.0.5/16", gw: "10.1.0.1", mtu: 1400 },
        { gw: "10.1.0.1" },
      ],
    }),
  },
  {
    name: "missing ipam",
    stdin: { cniVersion: "1.0.0", name: "diffnet", type: "cnishim-static" },
  },
  {
    name: "two IPv4 at 0.2.0",
    stdin: conf("0.2.0", {
      type: "cnishim-static",
      addresses: [{ address: "10.1.0.5/24" }, { address: "10.1.0.6/24" }],
    }),
  },
  {
    name: "no address at 0.2.0 cannot be converted",
    stdin: conf("0.2.0", { type: "cnishim-static" }),
  },
  {
    name: "no address at 1.0.0",
    stdin: conf("1.0.0", { type: "cnishim-static" }),
  },
  {
    name: "gateway outside the subnet is accepted",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [{ address: "10.1.0.5/24", gateway: "10.9.9.9" }],
    }),
  },
  {
    name: "canonical forms: IPv4-mapped, upper-case and long IPv6",
    stdin: conf("1.0.0", {
      type: "cnishim-static",
      addresses: [
        { address: "::ffff:10.1.0.7/120", gateway: "::ffff:10.1.0.1" },
        { address: "FD00:0:0:0:0:0:0:5/064" },
        { address: "2001:db8:0:0:1:0:0:1/64" },
      ],
    }),
  },
  { name: "DEL of a valid config", command: "DEL", stdin: conf("1.0.0", ONE) },
  {
    name: "DEL without netns",
    command: "DEL",
    stdin: conf("0.3.1", ONE),
    env: { CNI_NETNS: "" },
  },
  {
    name: "DEL of garbage",
    command: "DEL",
    stdin: "garbage",
    normalise: "msg",
  },
  {
    name: "DEL without container ID, ifname and path",
    command: "DEL",
    stdin: conf("1.0.0", ONE),
    env: { CNI_CONTAINERID: "", CNI_IFNAME: "", CNI_PATH: "" },
  },
  {
    name: "CHECK passes",
    command: "CHECK",
    stdin: conf("1.0.0", ONE, { prevResult: PREV }),
  },
  {
    name: "CHECK passes with a 0.4.0 prevResult",
    command: "CHECK",
    stdin: conf("0.4.0", ONE, {
      prevResult: {
        cniVersion: "0.4.0",
        ips: [{ version: "4", address: "10.1.0.5/24", gateway: "10.1.0.1" }],
      },
    }),
  },
  {
    name: "CHECK gateway mismatch",
    command: "CHECK",
    stdin: conf("1.0.0", ONE, {
      prevResult: {
        ...PREV,
        ips: [{ address: "10.1.0.5/24", gateway: "10.1.0.9" }],
      },
    }),
  },
  {
    name: "CHECK without prevResult",
    command: "CHECK",
    stdin: conf("1.0.0", ONE),
  },
  {
    name: "CHECK at 0.3.1",
    command: "CHECK",
    stdin: conf("0.3.1", ONE, { prevResult: PREV }),
  },
  { name: "unknown command", command: "FOO", stdin: conf("1.0.0", ONE) },
  {
    name: "ADD without env",
    stdin: conf("1.0.0", ONE),
    env: { CNI_CONTAINERID: "", CNI_NETNS: "", CNI_IFNAME: "" },
  },
  {
    name: "invalid network name",
    stdin: { ...conf("1.0.0", ONE), name: "my net" },
  },
  {
    name: "missing network name",
    stdin: { ...conf("1.0.0", ONE), name: "" },
  },
  {
    name: "invalid container ID",
    stdin: conf("1.0.0", ONE),
    env: { CNI_CONTAINERID: "-bad/id" },
  },
  {
    name: "interface name with a colon",
    stdin: conf("1.0.0", ONE),
    env: { CNI_IFNAME: "eth0:1" },
  },
  {
    name: "unknown config version",
    stdin: conf("9.9.9", ONE),
    normalise: "details",
  },
];

async function run(
  argv: readonly string[],
  row: Row,
): Promise<Run> {
  const [cmd, ...args] = argv;
  const env: Record<string, string> = {
    ...baseEnv(),
    ...CALL_ENV,
    CNI_COMMAND: row.command ?? "ADD",
    ...(row.cniArgs === undefined ? {} : { CNI_ARGS: row.cniArgs }),
    ...row.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === "") delete env[k];
  const out = await spawnWithStdin(
    cmd!,
    typeof row.stdin === "string" ? row.stdin : JSON.stringify(row.stdin),
    { args, clearEnv: true, env },
  );
  const text = out.stdout;
  let stdout: unknown = text;
  if (text.trim()) {
    try {
      stdout = JSON.parse(text);
    } catch {
      stdout = text;
    }
  }
  return { code: out.code, stdout };
}

function normalise(run: Run, row: Row, ours: boolean): Run {
  if (!run.stdout || typeof run.stdout !== "object") return run;
  const obj = { ...(run.stdout as Record<string, unknown>) };
  if (!("code" in obj)) return run;
  if (ours) delete obj.cniVersion;
  if (row.normalise === "msg") obj.msg = "<normalised>";
  if (row.normalise === "details") obj.details = "<normalised>";
  return { ...run, stdout: obj };
}

Deno.test({
  name:
    `static IPAM: ${ROWS.length} inputs give the reference plugin's exit status and stdout`,
  ignore: !HAS_REFERENCE && !IN_CI,
  async fn(t) {
    ok(ROWS.length >= 15);
    const results = await Promise.all(
      ROWS.map(async (row) => ({
        row,
        reference: normalise(await run([REFERENCE], row), row, false),
        ours: normalise(await run(cliCommand(), row), row, true),
      })),
    );
    for (const { row, reference, ours } of results) {
      await t.step(row.name, () => {
        deepEqual(ours, reference);
      });
    }
  },
});

Deno.test({
  name: "static IPAM: VERSION lists the reference plugin's versions and 1.1.0",
  ignore: !HAS_REFERENCE && !IN_CI,
  async fn() {
    const row: Row = { name: "VERSION", command: "VERSION", stdin: "" };
    const reference = await run([REFERENCE], row);
    const ours = await run(cliCommand(), row);
    equal(ours.code, 0);
    const refVersions = (reference.stdout as Record<string, string[]>)
      .supportedVersions!;
    deepEqual(ours.stdout, {
      cniVersion: "1.1.0",
      supportedVersions: [...refVersions, "1.1.0"],
    });
  },
});

Deno.test({
  name:
    "static IPAM: a 1.1.0 config gets the reference's 1.0.0 answer as 1.1.0",
  ignore: !HAS_REFERENCE && !IN_CI,
  async fn() {
    const ipam = {
      ...V4V6,
      routes: [{ dst: "10.9.0.0/16", gw: "10.1.0.1", mtu: 1400, table: 0 }],
    };
    const reference = await run([REFERENCE], {
      name: "",
      stdin: conf("1.0.0", ipam),
    });
    const ours = await run(cliCommand(), {
      name: "",
      stdin: conf("1.1.0", ipam),
    });
    equal(reference.code, 0);
    equal(ours.code, 0);
    const expected = structuredClone(reference.stdout) as Record<
      string,
      unknown
    >;
    expected.cniVersion = "1.1.0";
    // 1.1.0 routes carry their attributes (newer Go keeps them too).
    expected.routes = [{
      dst: "10.9.0.0/16",
      gw: "10.1.0.1",
      mtu: 1400,
      table: 0,
    }];
    deepEqual(ours.stdout, expected);
  },
});

Deno.test({
  name: "static IPAM: GC and STATUS succeed silently on 1.1.0, refused below",
  ignore: !HAS_REFERENCE && !IN_CI,
  async fn() {
    for (const command of ["GC", "STATUS"]) {
      const ok = await run(cliCommand(), {
        name: "",
        command,
        stdin: conf("1.1.0", ONE),
      });
      deepEqual(ok, { code: 0, stdout: "" });
      const old = await run(cliCommand(), {
        name: "",
        command,
        stdin: conf("1.0.0", ONE),
      });
      equal(old.code, 1);
      deepEqual(old.stdout, {
        cniVersion: "1.0.0",
        code: 1,
        msg: `config version does not allow ${command}`,
      });
    }
  },
});
