import { deepEqual, equal } from "node:assert/strict";
import {
  type Bandwidth,
  bandwidthFromAnnotations,
  parseBandwidth,
  parseQuantity,
} from "../../src/runtime/bandwidth.ts";
import { assertCniError } from "../_helpers/assert_cni_error.ts";

/** Asserts a CniError with `code` whose message follows std's grammar and names `mention`. */

const BURST = 2147483647;
const INGRESS = "kubernetes.io/ingress-bandwidth";
const EGRESS = "kubernetes.io/egress-bandwidth";
const ENGRESS = "kubernetes.io/engress-bandwidth";

Deno.test("parseQuantity() reads Kubernetes quantities", async (t) => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1", 1],
    ["1k", 1000],
    ["1.5M", 1_500_000],
    ["0.1k", 100],
    [".5k", 500],
    ["1.", 1],
    ["+5k", 5000],
    ["10G", 10e9],
    ["2T", 2e12],
    ["1P", 1e15],
    ["1E", 1e18],
    ["1Ki", 1024],
    ["1.5Ki", 1536],
    ["1Mi", 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1Ti", 2 ** 40],
    ["1Pi", 2 ** 50],
    ["1Ei", 2 ** 60],
    ["1e3", 1000],
    ["1.5E6", 1_500_000],
    ["100m", 1], // 0.1, rounded up like Quantity.Value()
    ["1500m", 2],
    ["1n", 1],
  ];
  for (const [text, want] of cases) {
    await t.step(text, () => equal(parseQuantity(text, "rate"), want));
  }
});

const BAD_QUANTITIES: [string, string][] = [
  // [text, what the message must name besides the field]
  ["", "is not a resource quantity"],
  ["abc", `"abc" is not a resource quantity`],
  ["-1", "is negative"],
  ["-1k", "is negative"],
  ["1.2.3", "is not a resource quantity"],
  ["10 M", "is not a resource quantity"],
  ["1KB", "is not a resource quantity"],
  ["1ki", "is not a resource quantity"],
  ["1e", "is not a resource quantity"],
  [".", "is not a resource quantity"],
  ["0x10", "is not a resource quantity"],
  ["1e1000", "is not a resource quantity"],
  ["10E", "is too large"],
];

Deno.test("parseQuantity() rejects garbage and negatives naming the field", async (t) => {
  for (const [text, mention] of BAD_QUANTITIES) {
    await t.step(JSON.stringify(text), () => {
      assertCniError(
        () => parseQuantity(text, `annotation "x"`),
        7,
        `Invalid annotation "x": `,
      );
      assertCniError(() => parseQuantity(text, "rate"), 7, mention);
    });
  }
});

Deno.test("bandwidthFromAnnotations() reads the annotations like containerd", async (t) => {
  const cases: [string, Record<string, string>, Bandwidth | undefined][] = [
    ["none", { "app": "web" }, undefined],
    ["ingress only", { [INGRESS]: "10M" }, {
      ingressRate: 10_000_000,
      ingressBurst: BURST,
    }],
    ["egress only", { [EGRESS]: "1Gi" }, {
      egressRate: 2 ** 30,
      egressBurst: BURST,
    }],
    ["iSulad's spelling", { [ENGRESS]: "2M" }, {
      egressRate: 2_000_000,
      egressBurst: BURST,
    }],
    ["the right spelling wins", { [EGRESS]: "3M", [ENGRESS]: "garbage" }, {
      egressRate: 3_000_000,
      egressBurst: BURST,
    }],
    ["both directions at the bounds", { [INGRESS]: "1k", [EGRESS]: "1P" }, {
      ingressRate: 1000,
      ingressBurst: BURST,
      egressRate: 1e15,
      egressBurst: BURST,
    }],
  ];
  for (const [name, annotations, want] of cases) {
    await t.step(
      name,
      () => deepEqual(bandwidthFromAnnotations(annotations), want),
    );
  }
});

const BAD_ANNOTATIONS: [string, Record<string, string>, string][] = [
  [
    "below 1k",
    { [INGRESS]: "999" },
    `annotation "${INGRESS}": "999" is below 1k`,
  ],
  ["milli by mistake", { [INGRESS]: "10m" }, `annotation "${INGRESS}"`],
  ["above 1P", { [EGRESS]: "2P" }, `annotation "${EGRESS}": "2P" is above 1P`],
  [
    "garbage in iSulad's spelling",
    { [ENGRESS]: "fast" },
    `annotation "${ENGRESS}"`,
  ],
  ["empty value", { [EGRESS]: "" }, `annotation "${EGRESS}"`],
  ["negative", { [INGRESS]: "-10M" }, `annotation "${INGRESS}"`],
];

Deno.test("bandwidthFromAnnotations() rejects unreasonable rates naming the annotation", async (t) => {
  for (const [name, annotations, mention] of BAD_ANNOTATIONS) {
    await t.step(
      name,
      () =>
        assertCniError(() => bandwidthFromAnnotations(annotations), 7, mention),
    );
  }
});

Deno.test("parseBandwidth() reads the flag's object", async (t) => {
  const cases: [string, unknown, Bandwidth][] = [
    ["all keys", {
      ingressRate: 1000,
      ingressBurst: 2000,
      egressRate: 0,
      egressBurst: 0,
    }, {
      ingressRate: 1000,
      ingressBurst: 2000,
      egressRate: 0,
      egressBurst: 0,
    }],
    ["Go field names", { EgressRate: 5, EgressBurst: 6 }, {
      egressRate: 5,
      egressBurst: 6,
    }],
    ["JSON text", '{"ingressRate":1}', { ingressRate: 1 }],
    ["empty object", {}, {}],
  ];
  for (const [name, value, want] of cases) {
    await t.step(name, () => deepEqual(parseBandwidth(value), want));
  }
});

const BAD_FLAGS: [string, unknown, number, string][] = [
  ["undecodable text", "{nope", 6, "Cannot decode --bandwidth"],
  ["a list", [], 7, "--bandwidth: expected a JSON object"],
  ["null", null, 7, "--bandwidth: expected a JSON object"],
  ["unknown key", { foo: 1 }, 7, "--bandwidth.foo"],
  ["negative", { ingressRate: -1 }, 7, "--bandwidth.ingressRate"],
  ["fraction", { egressBurst: 1.5 }, 7, "--bandwidth.egressBurst"],
  [
    "quantity string",
    { ingressRate: "10M" },
    7,
    `--bandwidth.ingressRate: "10M"`,
  ],
  [
    "key in two cases",
    { ingressRate: 1, IngressRate: 2 },
    7,
    "--bandwidth.IngressRate",
  ],
];

Deno.test("parseBandwidth() rejects bad objects naming the key", async (t) => {
  for (const [name, value, code, mention] of BAD_FLAGS) {
    await t.step(
      name,
      () => assertCniError(() => parseBandwidth(value), code, mention),
    );
  }
  await t.step("names the given source", () => {
    assertCniError(
      () => parseBandwidth({ x: 1 }, "bandwidth capability"),
      7,
      "bandwidth capability.x",
    );
  });
});
