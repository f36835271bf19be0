/**
 * `parseIp` against Go's `net.ParseIP` on the cases of Go's own tests
 * (family, or `undefined` where Go returns nil).
 *
 * @module
 */
import { deepEqual } from "node:assert/strict";
import { parseCidr, parseIp } from "../../src/spec/ip_address.ts";

const CASES: [string, 4 | 6 | undefined][] = [
  ["127.0.1.2", 4],
  ["::ffff:127.1.2.3", 6],
  ["2001:4860:0:2001::68", 6],
  ["2001:4860:0000:2001:0000:0000:0000:0068", 6],
  ["::1.2.3.4", 6],
  ["1:2:3:4:5:6:1.2.3.4", 6],
  ["1:2:3:4:5:6:7:8", 6],
  ["127.001.002.003", undefined],
  ["::ffff:127.001.002.003", undefined],
  ["123.000.000.000", undefined],
  ["1.2..4", undefined],
  ["0123.0.0.1", undefined],
  ["1.2.3.4::", undefined],
  ["1:1.2.3.4::", undefined],
  ["1:2:3:4:5:6:7:1.2.3.4", undefined],
  ["1:2:3:4:5:6:7:8:9", undefined],
  ["1::2::3", undefined],
  ["fe80::1%lo0", undefined],
  ["", undefined],
];

Deno.test("parseIp() accepts and refuses what Go's net.ParseIP does", async (t) => {
  for (const [input, family] of CASES) {
    await t.step(JSON.stringify(input), () => {
      deepEqual(parseIp(input)?.family, family);
    });
  }
});

// Go 1.x `net.ParseCIDR` on these inputs (run with golang-go here): the
// prefix is read by dtoi, which takes leading zeros.
const CIDRS: [string, number | undefined][] = [
  ["10.0.0.1/24", 24],
  ["10.0.0.1/024", 24],
  ["::1/0128", 128],
  ["10.0.0.1/0000000000008", 8],
  ["10.0.0.1/33", undefined],
  ["10.0.0.1/", undefined],
  ["10.0.0.1/+8", undefined],
  ["10.0.0.1/ 8", undefined],
  ["10.0.0.1", undefined],
  ["fe80::1%eth0/64", undefined],
];

Deno.test("parseCidr() accepts and refuses what Go's net.ParseCIDR does", () => {
  deepEqual(
    CIDRS.map(([s]) => [s, parseCidr(s)?.prefix]),
    CIDRS,
  );
});
