import { deepEqual, equal, throws } from "node:assert/strict";
import { convertResult } from "../../src/result/convert_result.ts";
import { parseResult } from "../../src/result/parse_result.ts";
import { primaryIp, resultIps } from "../../src/result/result_ips.ts";
import { CniError } from "../../src/spec/errors.ts";

const R110 = {
  cniVersion: "1.1.0",
  interfaces: [
    { name: "br0", mac: "aa:bb:cc:dd:ee:01" },
    {
      name: "eth0",
      mac: "aa:bb:cc:dd:ee:02",
      sandbox: "/run/netns/x",
      mtu: 1400,
      socketPath: "/s",
      pciID: "0000:01:00.1",
    },
  ],
  ips: [
    { address: "10.1.0.5/24", gateway: "10.1.0.1", interface: 1 },
    { address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
  ],
  routes: [{
    dst: "0.0.0.0/0",
    gw: "10.1.0.1",
    mtu: 1400,
    advmss: 1360,
    priority: 5,
    table: 100,
    scope: 0,
  }],
  dns: { nameservers: ["10.1.0.1"], search: ["svc"] },
};

Deno.test("convertResult() turns a 1.1.0 result into 0.4.0 keeping what 0.4.0 carries", () => {
  deepEqual(convertResult(R110, "0.4.0"), {
    cniVersion: "0.4.0",
    interfaces: [
      { name: "br0", mac: "aa:bb:cc:dd:ee:01" },
      { name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: "/run/netns/x" },
    ],
    ips: [
      {
        version: "4",
        address: "10.1.0.5/24",
        gateway: "10.1.0.1",
        interface: 1,
      },
      { version: "6", address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
    ],
    // libcni shares one route type, so the 1.1.0 route fields survive.
    routes: R110.routes,
    dns: R110.dns,
  });
});

Deno.test("convertResult() turns a 0.2.0 result into 1.0.0", () => {
  const r020 = {
    cniVersion: "0.2.0",
    ip4: {
      ip: "10.2.0.5/24",
      gateway: "10.2.0.1",
      routes: [{ dst: "0.0.0.0/0", gw: "10.2.0.1" }],
    },
    ip6: { ip: "fd01::5/64", routes: [{ dst: "::/0" }] },
    dns: { nameservers: ["10.2.0.1"] },
  };
  deepEqual(convertResult(r020, "1.0.0"), {
    cniVersion: "1.0.0",
    ips: [{ address: "10.2.0.5/24", gateway: "10.2.0.1" }, {
      address: "fd01::5/64",
    }],
    routes: [{ dst: "0.0.0.0/0", gw: "10.2.0.1" }, { dst: "::/0" }],
    dns: { nameservers: ["10.2.0.1"] },
  });
});

Deno.test("convertResult() goes down to 0.2.0 by the version field and route family", () => {
  deepEqual(convertResult(R110, "0.2.0"), {
    cniVersion: "0.2.0",
    ip4: {
      ip: "10.1.0.5/24",
      gateway: "10.1.0.1",
      routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }],
    },
    ip6: { ip: "fd00::5/64", gateway: "fd00::1" },
    dns: R110.dns,
  });
  deepEqual(
    convertResult(
      { cniVersion: "1.0.0", ips: [{ address: "fd00::7/64" }] },
      "0.1.0",
    ),
    {
      cniVersion: "0.1.0",
      ip6: { ip: "fd00::7/64" },
      dns: {},
    },
  );
  throws(
    () => convertResult({ cniVersion: "1.0.0", ips: [] }, "0.2.0"),
    (e: CniError) => e.code === 1 && /no valid IP/.test(e.message),
  );
});

Deno.test("convertResult() round trips 0.4.0 through 1.0.0 and relabels within a family", () => {
  const r040 = convertResult(R110, "0.4.0");
  deepEqual(convertResult(convertResult(r040, "1.0.0"), "0.4.0"), r040);
  deepEqual(convertResult(r040, "0.3.1"), { ...r040, cniVersion: "0.3.1" });
  deepEqual(convertResult(R110, "1.0.0"), { ...R110, cniVersion: "1.0.0" });
  equal(
    convertResult(R110, "1.1.0"),
    R110,
    "the same version returns the same object",
  );
  throws(() => convertResult(R110, "2.0.0"), CniError);
});

Deno.test("parseResult() applies libcni's rules and names the bad field", async (t) => {
  deepEqual(parseResult(null, "1.0.0"), { cniVersion: "1.0.0" });
  deepEqual(parseResult({ ips: [] }, "0.4.0"), {
    cniVersion: "0.4.0",
    ips: [],
  });
  const fixture = JSON.parse(
    await Deno.readTextFile(
      new URL("../testdata/libcni-cache/add-result.json", import.meta.url),
    ),
  );
  deepEqual(parseResult(structuredClone(fixture), "1.0.0"), fixture);
  const bad: [string, unknown, number, string][] = [
    [
      "address without prefix",
      { cniVersion: "1.0.0", ips: [{ address: "10.0.0.1" }] },
      6,
      "ips[0].address",
    ],
    [
      "bad gateway",
      {
        cniVersion: "1.0.0",
        ips: [{ address: "10.0.0.1/24", gateway: "10.0.0.300" }],
      },
      6,
      "ips[0].gateway",
    ],
    [
      "negative interface",
      { cniVersion: "1.0.0", ips: [{ address: "10.0.0.1/24", interface: -1 }] },
      6,
      "ips[0].interface",
    ],
    [
      "route dst",
      { cniVersion: "0.4.0", routes: [{ dst: "default" }] },
      6,
      "routes[0].dst",
    ],
    [
      "0.2.0 ip",
      { cniVersion: "0.2.0", ip4: { ip: "01.2.3.4/8" } },
      6,
      "ip4.ip",
    ],
    [
      "interface name",
      { cniVersion: "1.0.0", interfaces: [{ mac: "x" }] },
      6,
      "interfaces[0].name",
    ],
    ["unknown version", { cniVersion: "9.9.9" }, 1, "9.9.9"],
    ["not an object", [1], 6, "not a JSON object"],
  ];
  for (const [name, input, code, part] of bad) {
    await t.step(name, () => {
      throws(
        () => parseResult(input, "1.0.0"),
        (e: CniError) => e.code === code && e.message.includes(part),
      );
    });
  }
});

Deno.test("resultIps() and primaryIp() resolve interfaces and prefer IPv4", () => {
  deepEqual(resultIps(R110), [
    { address: "10.1.0.5/24", gateway: "10.1.0.1", interface: "eth0" },
    { address: "fd00::5/64", gateway: "fd00::1", interface: "eth0" },
  ]);
  equal(primaryIp(R110, "eth0"), "10.1.0.5");
  equal(
    primaryIp({ cniVersion: "0.2.0", ip6: { ip: "fd00::9/64" } }),
    "fd00::9",
  );
});
