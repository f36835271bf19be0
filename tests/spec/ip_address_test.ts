/**
 * `parseIp` against Go's `net.ParseIP` on the cases of Go's own tests
 * (family, or `undefined` where Go returns nil).
 *
 * @module
 */
import { deepEqual } from "node:assert/strict";
import { parseIp } from "../../src/spec/ip_address.ts";

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
