// Property-based tests: parsers never throw anything but a CniError, and
// result conversion is stable going up and back down.
import fc from "fast-check";
import { deepEqual, ok } from "node:assert/strict";
import { parseNetworkConfigList } from "../../src/config/parse_network_config.ts";
import { parseCniArgs } from "../../src/runtime/cni_args.ts";
import { convertResult } from "../../src/result/convert_result.ts";
import { parseResult } from "../../src/result/parse_result.ts";
import { CniError } from "../../src/spec/errors.ts";

const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 500);

function onlyCniErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    ok(error instanceof CniError, `threw ${error}`);
  }
}

// JSON-ish text: real configs mutated, plus arbitrary JSON and strings.
const configText = fc.oneof(
  fc.json(),
  fc.string(),
  fc.record({
    cniVersion: fc.oneof(
      fc.constantFrom("0.3.1", "0.4.0", "1.0.0", "1.1.0", "", "2.0.0"),
      fc.anything(),
    ),
    name: fc.oneof(fc.string(), fc.anything()),
    cniVersions: fc.option(fc.array(fc.oneof(fc.string(), fc.anything()))),
    disableCheck: fc.option(fc.anything()),
    plugins: fc.oneof(
      fc.array(
        fc.record({
          type: fc.oneof(fc.string(), fc.anything()),
          capabilities: fc.option(fc.dictionary(fc.string(), fc.anything())),
        }),
      ),
      fc.anything(),
    ),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
).map((t) => t + ["", " // c", ",", "/*"][t.length % 4]);

Deno.test("parseNetworkConfigList() throws only CniErrors on any input", async () => {
  await fc.assert(
    fc.asyncProperty(
      configText,
      fc.constantFrom("conflist", "conf", "auto") as fc.Arbitrary<
        "conflist" | "conf" | "auto"
      >,
      async (text, format) => {
        try {
          const list = await parseNetworkConfigList(
            new TextEncoder().encode(text),
            { format },
          );
          ok(list.plugins.length > 0 && typeof list.name === "string");
        } catch (error) {
          ok(error instanceof CniError, `threw ${error}`);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("parseCniArgs() throws only CniErrors and round-trips what it accepts", () => {
  const pair = fc.tuple(
    fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/),
    // deno-lint-ignore no-control-regex -- values must exclude control characters
    fc.stringMatching(/^[^;=\x00-\x1f]{0,8}$/),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(pair).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join(";")),
      ),
      (text) => {
        onlyCniErrors(() => {
          const args = parseCniArgs(text);
          deepEqual(
            parseCniArgs(args.map(([k, v]) => `${k}=${v}`).join(";")),
            args,
          );
        });
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("parseResult() throws only CniErrors on any input", () => {
  fc.assert(
    fc.property(
      fc.anything(),
      fc.constantFrom("0.2.0", "0.4.0", "1.0.0", "1.1.0", "9.9.9"),
      (value, version) => {
        onlyCniErrors(() => parseResult(structuredClone(value), version));
      },
    ),
    { numRuns: RUNS },
  );
});

const v4 = fc.tuple(
  fc.nat(255),
  fc.nat(255),
  fc.nat(255),
  fc.nat(255),
  fc.integer({ min: 1, max: 32 }),
)
  .map(([a, b, c, d, p]) => ({
    address: `${a}.${b}.${c}.${d}/${p}`,
    version: "4",
  }));
const v6 = fc.tuple(
  fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }),
  fc.integer({ min: 1, max: 128 }),
)
  .map(([ws, p]) => ({
    address: `${ws.map((w) => w.toString(16)).join(":")}/${p}`,
    version: "6",
  }));
const result040 = fc.record({
  interfaces: fc.array(
    fc.record({
      name: fc.stringMatching(/^[a-z0-9]{1,15}$/),
      mac: fc.constant("aa:bb:cc:dd:ee:ff"),
    }),
    { maxLength: 3 },
  ),
  ips: fc.array(fc.oneof(v4, v6), { maxLength: 4 }),
  routes: fc.array(
    fc.oneof(
      fc.constant({ dst: "0.0.0.0/0", gw: "10.0.0.1" }),
      fc.constant({ dst: "::/0" }),
    ),
    { maxLength: 2 },
  ),
  dns: fc.record({
    nameservers: fc.array(fc.constant("10.0.0.1"), { maxLength: 2 }),
  }),
}).map((r) => ({ cniVersion: "0.4.0", ...r }));

Deno.test("convertResult() up then down is stable", () => {
  fc.assert(
    fc.property(result040, fc.constantFrom("1.0.0", "1.1.0"), (r, up) => {
      const parsed = parseResult(structuredClone(r), "0.4.0");
      deepEqual(convertResult(convertResult(parsed, up), "0.4.0"), parsed);
      deepEqual(convertResult(convertResult(parsed, "0.3.1"), "0.4.0"), parsed);
    }),
    { numRuns: RUNS },
  );
});
