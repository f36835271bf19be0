import { deepEqual } from "node:assert/strict";
import {
  assignInterfaces,
  extraNetworksFromAnnotations,
  ignoredAnnotationKeys,
  type NetworkRequest,
  parseAnnotations,
  wantsDefaultNetwork,
} from "../../src/runtime/pod_annotations.ts";
import { assertCniError } from "../_helpers/assert_cni_error.ts";

/** Asserts a CniError with `code` whose message follows std's grammar and names `mention`. */

const ISULAD = "network.alpha.kubernetes.io/network";
const MULTUS = "k8s.v1.cni.cncf.io/networks";

Deno.test("parseAnnotations() reads a JSON object of strings", () => {
  deepEqual(parseAnnotations('{"a":"1","b":""}'), { a: "1", b: "" });
  deepEqual(parseAnnotations("{}"), {});
});

const BAD_TEXT: [string, string, number, string][] = [
  ["undecodable", "{", 6, "Cannot decode --annotations"],
  ["a list", "[]", 7, "--annotations: expected a JSON object"],
  ["a string", '"x"', 7, "--annotations: expected a JSON object"],
  ["a number value", '{"a":1}', 7, `--annotations key "a"`],
  ["a null value", '{"ok":"1","b":null}', 7, `--annotations key "b"`],
  ["an object value", '{"c":{"d":"e"}}', 7, `--annotations key "c"`],
  ["an empty key", '{"":"x"}', 7, `--annotations key ""`],
];

Deno.test("parseAnnotations() rejects anything but strings naming the key", async (t) => {
  for (const [name, text, code, mention] of BAD_TEXT) {
    await t.step(
      name,
      () => assertCniError(() => parseAnnotations(text), code, mention),
    );
  }
  await t.step(
    "names the given source",
    () =>
      assertCniError(() => parseAnnotations("[]", "OCI state"), 7, "OCI state"),
  );
});

Deno.test("extraNetworksFromAnnotations() reads iSulad's and Multus' annotations", async (t) => {
  const cases: [string, Record<string, string>, NetworkRequest[]][] = [
    ["none", { app: "web" }, []],
    ["empty annotations ask for nothing", { [ISULAD]: "", [MULTUS]: "  " }, []],
    ["iSulad single object", { [ISULAD]: '{"name":"a","interface":"eth5"}' }, [{
      name: "a",
      interface: "eth5",
    }]],
    ["iSulad list", {
      [ISULAD]: '[{"name":"a"},{"name":"b","interface":"net1"}]',
    }, [
      { name: "a" },
      { name: "b", interface: "net1" },
    ]],
    ["Multus names", { [MULTUS]: "a, b@net2 ,ns/c,ns/d@e" }, [
      { name: "a" },
      { name: "b", interface: "net2" },
      { name: "c" },
      { name: "d", interface: "e" },
    ]],
    ["Multus JSON, namespace ignored", {
      [MULTUS]: '[{"name":"a","namespace":"ns","interface":"x1"},{"name":"b"}]',
    }, [
      { name: "a", interface: "x1" },
      { name: "b" },
    ]],
    ["iSulad interface with U+FEFF, no whitespace to Go", {
      [ISULAD]: '{"name":"a","interface":"e\\ufeff1"}',
    }, [{ name: "a", interface: "e\ufeff1" }]],
    ["both, iSulad first", { [MULTUS]: "m", [ISULAD]: '{"name":"i"}' }, [{
      name: "i",
    }, { name: "m" }]],
  ];
  for (const [name, annotations, want] of cases) {
    await t.step(
      name,
      () => deepEqual(extraNetworksFromAnnotations(annotations), want),
    );
  }
});

const I = `annotation "${ISULAD}"`;
const M = `annotation "${MULTUS}"`;
const BAD_ANNOTATIONS: [string, Record<string, string>, number, string][] = [
  ["iSulad undecodable", { [ISULAD]: "{" }, 6, `Cannot decode ${I}`],
  [
    "iSulad entry without a name",
    { [ISULAD]: '[{"interface":"eth1"}]' },
    7,
    `${I}[0].name: missing`,
  ],
  ["iSulad string", { [ISULAD]: '"a"' }, 7, `${I}: expected an object`],
  [
    "iSulad number entry",
    { [ISULAD]: "[1]" },
    7,
    `${I}[0]: expected an object`,
  ],
  [
    "iSulad empty name",
    { [ISULAD]: '[{"name":"a"},{"name":""}]' },
    7,
    `${I}[1].name`,
  ],
  [
    "iSulad name starting with -",
    { [ISULAD]: '{"name":"-a"}' },
    7,
    `${I}.name: network name "-a"`,
  ],
  [
    "iSulad numeric name",
    { [ISULAD]: '{"name":5}' },
    7,
    `${I}.name: expected a string`,
  ],
  [
    "iSulad numeric interface",
    { [ISULAD]: '[{"name":"a","interface":3,"network_plane":"p"}]' },
    7,
    `${I}[0].interface: expected a string`,
  ],
  [
    "interface with /",
    { [ISULAD]: '{"name":"a","interface":"a/b"}' },
    7,
    `${I}.interface`,
  ],
  [
    "interface of 16 bytes",
    { [ISULAD]: '{"name":"a","interface":"0123456789abcdef"}' },
    7,
    "longer than 15 bytes",
  ],
  [
    "interface .",
    { [ISULAD]: '{"name":"a","interface":"."}' },
    7,
    `${I}.interface`,
  ],
  [
    "interface with a space",
    { [ISULAD]: '{"name":"a","interface":"e 1"}' },
    7,
    `${I}.interface`,
  ],
  [
    "interface with U+0085, whitespace to Go's unicode.IsSpace",
    { [ISULAD]: '{"name":"a","interface":"e\\u00851"}' },
    7,
    `${I}.interface`,
  ],
  [
    "empty interface",
    { [ISULAD]: '{"name":"a","interface":""}' },
    7,
    `${I}.interface: the interface name is empty`,
  ],
  ["Multus empty item", { [MULTUS]: "a,,b" }, 7, `${M}[1].name`],
  ["Multus two @", { [MULTUS]: "a@b@c" }, 7, `${M}[0]: "a@b@c"`],
  ["Multus two /", { [MULTUS]: "x/y/z" }, 7, `${M}[0]`],
  [
    "Multus empty namespace",
    { [MULTUS]: "a,/b" },
    7,
    `${M}[1]: "/b" has an empty namespace`,
  ],
  ["Multus empty interface", { [MULTUS]: "a@" }, 7, `${M}[0].interface`],
  ["Multus interface with :", { [MULTUS]: "a@eth:1" }, 7, `${M}[0].interface`],
  [
    "Multus JSON object",
    { [MULTUS]: '{"name":"a"}' },
    7,
    `${M}: expected a JSON list`,
  ],
  [
    "Multus unsupported key",
    { [MULTUS]: '[{"name":"a","ips":["10.0.0.1"]}]' },
    7,
    `${M}[0].ips`,
  ],
  [
    "Multus entry without a name",
    { [MULTUS]: '[{"interface":"net1"}]' },
    7,
    `${M}[0].name`,
  ],
  ["Multus undecodable", { [MULTUS]: "[oops" }, 6, `Cannot decode ${M}`],
];

Deno.test("extraNetworksFromAnnotations() rejects bad entries naming annotation, index and field", async (t) => {
  for (const [name, annotations, code, mention] of BAD_ANNOTATIONS) {
    await t.step(
      name,
      () =>
        assertCniError(
          () => extraNetworksFromAnnotations(annotations),
          code,
          mention,
        ),
    );
  }
});

Deno.test("assignInterfaces() gives eth1, eth2, … skipping names taken", async (t) => {
  const cases: [
    string,
    NetworkRequest[],
    string | undefined,
    { name: string; ifName: string }[],
  ][] = [
    ["none", [], undefined, []],
    ["in order", [{ name: "a" }, { name: "b" }], undefined, [{
      name: "a",
      ifName: "eth1",
    }, { name: "b", ifName: "eth2" }]],
    [
      "skips a later explicit name",
      [{ name: "a" }, { name: "b", interface: "eth1" }, { name: "c" }],
      undefined,
      [
        { name: "a", ifName: "eth2" },
        { name: "b", ifName: "eth1" },
        { name: "c", ifName: "eth3" },
      ],
    ],
    ["skips the default interface", [{ name: "a" }], "eth1", [{
      name: "a",
      ifName: "eth2",
    }]],
    ["same network twice", [{ name: "a" }, { name: "a" }], undefined, [
      { name: "a", ifName: "eth1" },
      { name: "a", ifName: "eth2" },
    ]],
  ];
  for (const [name, requests, defaultIfName, want] of cases) {
    await t.step(
      name,
      () => deepEqual(assignInterfaces(requests, defaultIfName), want),
    );
  }
});

Deno.test("assignInterfaces() rejects an interface asked for twice naming both networks", async (t) => {
  await t.step("two networks", () => {
    const requests = [{ name: "a", interface: "net1" }, {
      name: "b",
      interface: "net1",
    }];
    assertCniError(
      () => assignInterfaces(requests),
      7,
      `network "b" asks for "net1", which network "a" already has`,
    );
  });
});

Deno.test("assignInterfaces() keeps an explicit default interface, which replaces the default network", () => {
  deepEqual(
    assignInterfaces([{ name: "a", interface: "eth0" }, { name: "b" }]),
    [{ name: "a", ifName: "eth0" }, { name: "b", ifName: "eth1" }],
  );
});

const OWN = "cnishim.io/network";

Deno.test("cnishim.io/network: the first entry is the primary network on the default interface, `default` the conf dir's default, the others extras", async (t) => {
  const cases: [string, string, string, { name: string; ifName: string }[]][] =
    [
      ["default only", "default", "eth0", []],
      ["empty", " ", "eth0", []],
      ["another network as primary", "storage", "eth0", [{
        name: "storage",
        ifName: "eth0",
      }]],
      ["the primary on the hook's ifname", "storage", "net0", [{
        name: "storage",
        ifName: "net0",
      }]],
      ["default plus extras", "default, a ,b@net9,c", "eth0", [
        { name: "a", ifName: "eth1" },
        { name: "b", ifName: "net9" },
        { name: "c", ifName: "eth2" },
      ]],
      ["a primary on another interface keeps the default", "a@eth3", "eth0", [
        { name: "a", ifName: "eth3" },
      ]],
      ["none, then extras", "none,a,b@net1", "eth0", [
        { name: "a", ifName: "eth1" },
        { name: "b", ifName: "net1" },
      ]],
    ];
  for (const [name, value, ifName, want] of cases) {
    await t.step(name, () =>
      deepEqual(
        assignInterfaces(
          extraNetworksFromAnnotations({ [OWN]: value }, ifName),
          ifName,
        ),
        want,
      ));
  }
  await t.step("comes before iSulad's and Multus' entries", () =>
    deepEqual(
      extraNetworksFromAnnotations({
        [MULTUS]: "m",
        [ISULAD]: '{"name":"i"}',
        [OWN]: "default,o",
      }).map((r) => r.name),
      ["o", "i", "m"],
    ));
});

Deno.test("cnishim.io/network: bad entries are refused naming the annotation and the entry", async (t) => {
  const bad: [string, string, string][] = [
    ["an empty entry", "a,,b", `annotation "cnishim.io/network"[1]`],
    ["two @", "a@b@c", `annotation "cnishim.io/network"[0]`],
    ["default not first", "a,default", `"default" (the conf dir's default`],
    ["default with an ifname", "default@eth1", `only be the first entry`],
    ["none not first", "a,none", `"none" (no network on the default`],
    ["a bad name", "../x", `annotation "cnishim.io/network"[0].name`],
    ["a bad ifname", "a@x/y", `annotation "cnishim.io/network"[0].interface`],
  ];
  for (const [name, value, mention] of bad) {
    await t.step(name, () =>
      assertCniError(
        () => extraNetworksFromAnnotations({ [OWN]: value }),
        7,
        mention,
      ));
  }
});

Deno.test("wantsDefaultNetwork(): only a first entry `none` of cnishim.io/network turns the default network off", () => {
  deepEqual(
    ["", "default", "a", "none", " none ,a", "a,b", "nonesuch"].map((v) =>
      wantsDefaultNetwork({ [OWN]: v })
    ),
    [true, true, true, false, false, true, true],
  );
  deepEqual(wantsDefaultNetwork({ [MULTUS]: "none" }), true);
});

// Issue 24 point 6; fails before it: code 7, "network_plane: unsupported key".
Deno.test("iSulad's annotation entries with keys of their own are accepted, the keys ignored and listed", () => {
  const annotations = {
    [ISULAD]: JSON.stringify([
      { name: "a", interface: "eth1", network_plane: "data", extra: { x: 1 } },
      { name: "b", namespace: "default" },
    ]),
  };
  deepEqual(extraNetworksFromAnnotations(annotations), [
    { name: "a", interface: "eth1" },
    { name: "b" },
  ]);
  deepEqual(ignoredAnnotationKeys(annotations), [
    `annotation "${ISULAD}"[0].network_plane`,
    `annotation "${ISULAD}"[0].extra`,
    `annotation "${ISULAD}"[1].namespace`,
  ]);
  deepEqual(ignoredAnnotationKeys({ [ISULAD]: '{"name":"a"}' }), []);
});
