import { deepEqual } from "node:assert/strict";
import {
  buildPodCniArgs,
  parseCniArgs,
  type PodIdentity,
  validateCniArgs,
} from "../../src/runtime/cni_args.ts";
import { assertCniError } from "../_helpers/assert_cni_error.ts";
import type { CniArg } from "../../src/spec/types.ts";

/** Asserts a CniError with `code` whose message follows std's grammar and names `mention`. */

Deno.test("buildPodCniArgs() sends the kubelet keys in ocicni's fixed order", async (t) => {
  const cases: [string, PodIdentity, CniArg[]][] = [
    ["all known", { name: "web-0", namespace: "prod", uid: "1f2e" }, [
      ["IgnoreUnknown", "1"],
      ["K8S_POD_NAMESPACE", "prod"],
      ["K8S_POD_NAME", "web-0"],
      ["K8S_POD_INFRA_CONTAINER_ID", "ctr1"],
      ["K8S_POD_UID", "1f2e"],
    ]],
    ["nothing known", {}, [["IgnoreUnknown", "1"]]],
    ["only the UID", { uid: "u" }, [["IgnoreUnknown", "1"], [
      "K8S_POD_UID",
      "u",
    ]]],
    ["only the namespace", { namespace: "ns" }, [
      ["IgnoreUnknown", "1"],
      ["K8S_POD_NAMESPACE", "ns"],
      ["K8S_POD_INFRA_CONTAINER_ID", "ctr1"],
    ]],
    ["empty strings count as unknown", {
      name: "",
      namespace: "",
      uid: undefined,
    }, [["IgnoreUnknown", "1"]]],
  ];
  for (const [name, pod, want] of cases) {
    await t.step(name, () => deepEqual(buildPodCniArgs(pod, "ctr1"), want));
  }
});

Deno.test("buildPodCniArgs() appends extra pairs as is, duplicates included", () => {
  deepEqual(
    buildPodCniArgs({ name: "a" }, "c", [["K8S_POD_NAME", "b"], [
      "IP",
      "10.0.0.2",
    ]]),
    [
      ["IgnoreUnknown", "1"],
      ["K8S_POD_NAME", "a"],
      ["K8S_POD_INFRA_CONTAINER_ID", "c"],
      ["K8S_POD_NAME", "b"],
      ["IP", "10.0.0.2"],
    ],
  );
});

Deno.test("parseCniArgs() reads K=V;K=V", async (t) => {
  const cases: [string, CniArg[]][] = [
    ["", []],
    ["A=1", [["A", "1"]]],
    ["A=1;B=", [["A", "1"], ["B", ""]]],
    ["IgnoreUnknown=true;K8S_POD_NAME=web-0", [["IgnoreUnknown", "true"], [
      "K8S_POD_NAME",
      "web-0",
    ]]],
    ["a.b-c_D9=x y", [["a.b-c_D9", "x y"]]],
    ["IP=10.1.0.5/24;MAC=0a:58:0a:01:00:05", [["IP", "10.1.0.5/24"], [
      "MAC",
      "0a:58:0a:01:00:05",
    ]]],
    ["NOTE=café", [["NOTE", "café"]]],
  ];
  for (const [text, want] of cases) {
    await t.step(
      JSON.stringify(text),
      () => deepEqual(parseCniArgs(text), want),
    );
  }
});

const BAD_TEXT: [string, string, string][] = [
  // [case, text, what the message must name]
  ["no equals sign", "A", `--args pair 1 "A"`],
  ["empty key", "=1", `--args pair 1 "=1"`],
  ["value containing =", "A=b=c", "cannot be represented in CNI_ARGS"],
  ["trailing semicolon", "A=1;", `--args pair 2 "": the pair is empty`],
  ["empty pair in the middle", "A=1;;B=2", "--args pair 2"],
  ["space in the key", "A=1; B=2", `key " B"`],
  ["slash in the key", "A/B=1", `key "A/B"`],
  ["non-ASCII key", "Kéy=1", `key "Kéy"`],
  ["newline in the value", "A=1\n", "control character"],
  ["NUL in the value", "A=\0", "control character"],
  ["DEL in the value", "A=\x7f", `--args pair 1`],
];

Deno.test("parseCniArgs() rejects what CNI_ARGS cannot carry", async (t) => {
  for (const [name, text, mention] of BAD_TEXT) {
    await t.step(
      name,
      () => assertCniError(() => parseCniArgs(text), 4, mention),
    );
  }
  await t.step(
    "names the given source",
    () =>
      assertCniError(
        () => parseCniArgs("x", "CNI_ARGS env"),
        4,
        "CNI_ARGS env",
      ),
  );
});

const BAD_PAIRS: [string, CniArg[], string][] = [
  [
    "semicolon in a value",
    [["K8S_POD_NAME", "a;b"]],
    `of "K8S_POD_NAME" contains ";"`,
  ],
  ["equals sign in a value", [["A", "1"], ["B", "b=c"]], `CNI_ARGS pair 2`],
  ["tab in a value", [["A", "\t"]], `of "A" contains a control character`],
  ["empty key", [["", "x"]], "the key is empty"],
  ["bad key", [["bad key", "1"]], `key "bad key"`],
];

Deno.test("validateCniArgs() rejects pairs CNI_ARGS cannot carry", async (t) => {
  for (const [name, args, mention] of BAD_PAIRS) {
    await t.step(
      name,
      () => assertCniError(() => validateCniArgs(args), 4, mention),
    );
  }
});

const BAD_PODS: [string, PodIdentity, string, CniArg[], string][] = [
  ["name with ;", { name: "a;b" }, "c", [], "K8S_POD_NAME"],
  ["namespace with =", { namespace: "x=y" }, "c", [], "K8S_POD_NAMESPACE"],
  ["UID with a newline", { uid: "u\n" }, "c", [], "K8S_POD_UID"],
  [
    "container ID with ;",
    { name: "a" },
    "c;d",
    [],
    "K8S_POD_INFRA_CONTAINER_ID",
  ],
  ["bad extra key", {}, "c", [["bad key", "1"]], `key "bad key"`],
];

Deno.test("buildPodCniArgs() rejects values CNI_ARGS cannot carry", async (t) => {
  for (const [name, pod, id, extra, mention] of BAD_PODS) {
    await t.step(
      name,
      () => assertCniError(() => buildPodCniArgs(pod, id, extra), 4, mention),
    );
  }
});
