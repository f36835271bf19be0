import { deepEqual, equal } from "node:assert/strict";
import { parseMetaConfig } from "../../src/plugin/meta_config.ts";

const BASE = { cniVersion: "0.3.1", name: "n", backend: "http://127.0.0.1/x" };

Deno.test("parseMetaConfig() gives the delegates the IPAM installed beside the meta plugin; ipamType overrides it", () => {
  for (
    const [type, ipamType, want] of [
      ["dockin-cni", undefined, "dockin-ipam"],
      ["cnishim-multinet", undefined, "cnishim-static"],
      ["dockin-cni", "static", "static"],
      ["cnishim-multinet", "host-local", "host-local"],
    ] as const
  ) {
    const config = parseMetaConfig({
      ...BASE,
      type,
      ...(ipamType ? { ipamType } : {}),
    });
    equal(config.ipamType, want, `${type} with ipamType ${ipamType}`);
  }
});

Deno.test("parseMetaConfig() takes Dockin's log levels, and an unknown one as info with one warning", () => {
  for (
    const [level, want] of [
      ["debug", "debug"],
      ["verbose", "info"],
      ["info", "info"],
      ["error", "error"],
      ["panic", "error"],
      ["DEBUG", "debug"],
    ] as const
  ) {
    const config = parseMetaConfig({
      ...BASE,
      type: "dockin-cni",
      logLevel: level,
    });
    equal(config.logLevel, want, level);
    deepEqual(config.warnings, []);
  }
  const odd = parseMetaConfig({
    ...BASE,
    type: "dockin-cni",
    logLevel: "trace",
  });
  equal(odd.logLevel, "info");
  equal(odd.warnings.length, 1);
  equal(odd.warnings[0]!.startsWith('unknown "logLevel" "trace"'), true);
});
