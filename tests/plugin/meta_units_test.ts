/**
 * The meta plugin's fast tier: its pure parts (the backend answer, its own
 * config, the record on disk) checked without root, namespaces or real
 * plugins, so they run on any machine. The behaviour on a real host is
 * meta_plugin/.
 *
 * @module
 */
import {
  deepEqual,
  equal,
  match,
  notEqual,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import {
  backendUrl,
  maskPrefix,
  validateBackendAnswer,
} from "../../src/plugin/meta_backend.ts";
import { parseMetaConfig } from "../../src/plugin/meta_config.ts";
import {
  listRecords,
  type MetaRecord,
  quarantineRecord,
  readListedRecord,
  readRecord,
  RECORD_KIND,
  recordPath,
  removeRecord,
  writeRecord,
} from "../../src/plugin/meta_record.ts";
import { CniError, ConfigError } from "../../src/spec/errors.ts";
import { createTempDir } from "../_helpers/shell.ts";

const NET = {
  type: "net-a",
  podIp: "10.1.0.5",
  subnetMask: "255.255.255.0",
  gateway: "10.1.0.1",
  ifName: "eth0",
  master: true,
};

function answerWith(...data: unknown[]): unknown {
  return { code: 0, reqId: "r1", data };
}

Deno.test("validateBackendAnswer() turns Dockin's answer into networks with CIDR addresses", () => {
  const answer = validateBackendAnswer(answerWith(
    NET,
    {
      type: "net-b",
      podIp: "fd00::5",
      subnetMask: "64",
      ifName: "net1",
      master: false,
    },
    {
      ...NET,
      type: "net-c",
      subnetMask: "ffff0000",
      ifName: "net2",
      master: null,
    },
  ));
  equal(answer.reqId, "r1");
  deepEqual(answer.networks, [
    {
      type: "net-a",
      address: "10.1.0.5/24",
      family: 4,
      gateway: "10.1.0.1",
      ifName: "eth0",
      master: true,
    },
    {
      type: "net-b",
      address: "fd00::5/64",
      family: 6,
      gateway: undefined,
      ifName: "net1",
      master: false,
    },
    {
      type: "net-c",
      address: "10.1.0.5/16",
      family: 4,
      gateway: "10.1.0.1",
      ifName: "net2",
      master: false,
    },
  ]);
});

Deno.test("validateBackendAnswer() refuses a bad answer with the code a runtime acts on, naming the field", async (t) => {
  const cases: [string, unknown, number, RegExp][] = [
    ["not an object", [], 7, /not a JSON object/],
    ["a code that is no number", { code: "0" }, 7, /"code" must be a number/],
    [
      "a refusal",
      { code: 3, message: "busy", reqId: "r9" },
      11,
      /refused the request: busy \(code 3, reqId r9\)/,
    ],
    ["no data", { code: 0, data: [] }, 7, /"data" must be a non-empty list/],
    ["no master", answerWith({ ...NET, master: false }), 7, /found 0/],
    [
      "two masters",
      answerWith(NET, { ...NET, ifName: "net1" }),
      7,
      /found 2/,
    ],
    [
      "an interface twice",
      answerWith(NET, { ...NET, type: "net-b", master: false }),
      7,
      /"eth0" appears twice/,
    ],
    [
      "a missing podIp",
      answerWith({ ...NET, podIp: "" }),
      7,
      /podIp is missing/,
    ],
    [
      "a podIp Go refuses",
      answerWith({ ...NET, podIp: "10.1.0.05" }),
      7,
      /data\[0\]\.podIp "10\.1\.0\.05"/,
    ],
    [
      "a mask with holes",
      answerWith({ ...NET, subnetMask: "255.0.255.0" }),
      7,
      /subnetMask "255\.0\.255\.0"/,
    ],
    [
      "a /0 mask",
      answerWith({ ...NET, subnetMask: "0.0.0.0" }),
      7,
      /subnetMask/,
    ],
    [
      "a gateway of the other family",
      answerWith({ ...NET, gateway: "fd00::1" }),
      7,
      /gateway "fd00::1" is not an IPv4 address/,
    ],
    [
      "a bad interface name",
      answerWith({ ...NET, ifName: "a/b" }),
      7,
      /data\[0\]\.ifName/,
    ],
    [
      "a bad network name",
      answerWith({ ...NET, type: "../x" }),
      7,
      /data\[0\]\.type/,
    ],
    [
      "master that is no boolean",
      answerWith({ ...NET, master: "yes" }),
      7,
      /master must be true or false/,
    ],
  ];
  for (const [name, body, code, message] of cases) {
    await t.step(name, () => {
      throws(() => validateBackendAnswer(body), (e: unknown) => {
        ok(e instanceof CniError, String(e));
        equal(e.code, code, e.message);
        match(e.message, message);
        return true;
      });
    });
  }
});

Deno.test("maskPrefix() reads dotted and hex masks, and refuses masks with holes", () => {
  deepEqual(
    ["255.255.255.0", "ffffff00", "255.255.255.255", "0.0.0.0", "255.0.255.0"]
      .map(maskPrefix),
    [24, 24, 32, 0, undefined],
  );
});

Deno.test("backendUrl() appends the URL-encoded pod name to any query", () => {
  equal(backendUrl("http://rm/x", "a b"), "http://rm/x?podName=a%20b");
  equal(backendUrl("http://rm/x?zone=1", "p"), "http://rm/x?zone=1&podName=p");
});

Deno.test("parseMetaConfig() takes Dockin's keys and defaults, and refuses bad values naming the field", async (t) => {
  const config = parseMetaConfig({
    cniVersion: "0.3.1",
    name: "dockin",
    type: "dockin-cni",
    backend: "http://127.0.0.1:10002/rmController/getPodMultiNetwork",
    logLevel: "verbose",
    backendTimeoutMs: 2000,
  });
  equal(config.confDir, "/etc/cni/dockin/net.d");
  equal(config.binDir, "/opt/cni/bin");
  equal(config.logLevel, "info");
  equal(config.backendTimeoutMs, 2000);
  equal(config.pluginTimeoutMs, undefined);
  const base = { name: "dockin", type: "dockin-cni" };
  const cases: [string, Record<string, unknown>, string][] = [
    ["a relative confDir", { confDir: "net.d" }, "confDir"],
    ["a backend that is no URL", { backend: "rm:10002" }, "backend"],
    ["an ftp backend", { backend: "ftp://rm/x" }, "backend"],
    // An unknown level name falls back to info (as Dockin); not a string is an error.
    ["a log level that is no string", { logLevel: 5 }, "logLevel"],
    ["a relative log file", { logFile: "x.log" }, "logFile"],
    ["a zero timeout", { backendTimeoutMs: 0 }, "backendTimeoutMs"],
    ["a timeout too long", { pluginTimeoutMs: 3_600_001 }, "pluginTimeoutMs"],
    ["a binDir that is a number", { binDir: 5 }, "binDir"],
    ["an ipamType with a slash", { ipamType: "../x" }, "ipamType"],
  ];
  for (const [name, extra, field] of cases) {
    await t.step(name, () => {
      throws(() => parseMetaConfig({ ...base, ...extra }), (e: unknown) => {
        ok(e instanceof ConfigError, String(e));
        equal(e.code, 7);
        equal(e.field, field);
        return true;
      });
    });
  }
});

const SAMPLE_RECORD: MetaRecord = {
  kind: RECORD_KIND,
  containerId: "c1",
  netns: "/var/run/netns/x",
  runtimeIfName: "eth0",
  networkName: "dockin",
  podName: "web-0",
  backend: "http://rm/x",
  createdAt: "2026-01-01T00:00:00.000Z",
  delegates: [{
    netName: "net-a",
    ifName: "eth0",
    master: true,
    confFile: "/etc/cni/dockin/net.d/a.conf",
    config: { type: "bridge" },
    state: "pending",
  }],
};

Deno.test("the meta record round-trips, and a corrupt one is reported and quarantined, never trusted", async () => {
  await using tmp = await createTempDir("cnishim-meta-record-");
  const dir = `${tmp.path}/cache`;
  const record = SAMPLE_RECORD;
  const key = { networkName: "dockin", containerId: "c1", ifName: "eth0" };
  deepEqual(await readRecord(dir, key), { kind: "missing" });
  await writeRecord(dir, record);
  const path = recordPath(dir, key);
  equal(path, `${dir}/dockin-c1-eth0.json`);
  deepEqual(await readRecord(dir, key), { kind: "ok", path, record });
  equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  deepEqual(await listRecords(dir), [path]);
  deepEqual(await readListedRecord(path), { kind: "ok", path, record });

  for (
    const [text, reason] of [
      ["{", /not JSON/],
      ['{"kind":"other"}', /not a cnishim-multinet\/v1 record/],
      [JSON.stringify({ ...record, containerId: "c2" }), /another container/],
      [JSON.stringify({ ...record, delegates: [{}] }), /malformed/],
    ] as const
  ) {
    await Deno.writeTextFile(path, text);
    const read = await readRecord(dir, key);
    ok(read.kind === "corrupt", JSON.stringify(read));
    match(read.reason, reason);
  }
  equal(await quarantineRecord(path), `${path}.corrupt`);
  deepEqual(await readRecord(dir, key), { kind: "missing" });
  await removeRecord(path);
  throws(() => recordPath(dir, { ...key, containerId: "../c1" }), CniError);
  await rejects(readRecord(dir, { ...key, containerId: "a/b" }), CniError);
});

// Issue 24 point 4; fails before it: one record per container, any network.
Deno.test("meta records are keyed by network, container and interface; a legacy <containerId>.json is read for its own attachment only", async () => {
  await using tmp = await createTempDir("cnishim-meta-record-");
  const dir = `${tmp.path}/cache`;
  const base: MetaRecord = { ...SAMPLE_RECORD, delegates: [] };
  const other = { ...base, networkName: "dockin-b", runtimeIfName: "net1" };
  await writeRecord(dir, base);
  await writeRecord(dir, other);
  const a = { networkName: "dockin", containerId: "c1", ifName: "eth0" };
  const b = { networkName: "dockin-b", containerId: "c1", ifName: "net1" };
  const readA = await readRecord(dir, a);
  const readB = await readRecord(dir, b);
  ok(readA.kind === "ok" && readB.kind === "ok");
  equal(readA.record.networkName, "dockin");
  equal(readB.record.networkName, "dockin-b");
  notEqual(readA.path, readB.path);

  // Written before records were keyed: read for its attachment only.
  await Deno.remove(recordPath(dir, a));
  await Deno.remove(recordPath(dir, b));
  const legacy = `${dir}/c1.json`;
  await Deno.writeTextFile(legacy, JSON.stringify(base));
  deepEqual(await readRecord(dir, a), {
    kind: "ok",
    path: legacy,
    record: base,
  });
  deepEqual(await readRecord(dir, b), { kind: "missing" });
  deepEqual(await listRecords(dir), [legacy]);
  deepEqual(await readListedRecord(legacy), {
    kind: "ok",
    path: legacy,
    record: base,
  });
});
