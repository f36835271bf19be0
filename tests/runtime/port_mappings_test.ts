import { deepEqual } from "node:assert/strict";
import {
  parsePortMappings,
  type PortMapping,
} from "../../src/runtime/port_mappings.ts";
import { assertCniError } from "../_helpers/assert_cni_error.ts";

/** Asserts a CniError with `code` whose message follows std's grammar and names `mention`. */

const WEB: PortMapping = { hostPort: 8080, containerPort: 80, protocol: "tcp" };

Deno.test("parsePortMappings() reads the CRI, CNI and Go forms", async (t) => {
  const cases: [string, unknown, PortMapping[]][] = [
    ["CRI enum protocols", [
      { container_port: 80, host_port: 8080, protocol: 0 },
      { container_port: 53, host_port: 53, protocol: 1 },
      { container_port: 9, host_port: 9, protocol: 2 },
    ], [WEB, { hostPort: 53, containerPort: 53, protocol: "udp" }, {
      hostPort: 9,
      containerPort: 9,
      protocol: "sctp",
    }]],
    ["CRI protocol names", [{
      container_port: 80,
      host_port: 8080,
      protocol: "SCTP",
      host_ip: "10.0.0.1",
    }], [
      {
        hostPort: 8080,
        containerPort: 80,
        protocol: "sctp",
        hostIP: "10.0.0.1",
      },
    ]],
    ["CNI form, any case", [{
      containerPort: 80,
      hostPort: 8080,
      protocol: "Udp",
      hostIP: "::1",
    }], [
      { hostPort: 8080, containerPort: 80, protocol: "udp", hostIP: "::1" },
    ]],
    ["Go field names (containerd)", [{
      HostPort: 8080,
      ContainerPort: 80,
      Protocol: "tcp",
      HostIP: "",
    }], [WEB]],
    ["protocol defaults to tcp", [{ containerPort: 80, hostPort: 8080 }], [
      WEB,
    ]],
    ["null counts as absent", [{
      containerPort: 80,
      hostPort: 8080,
      protocol: null,
      hostIP: null,
    }], [WEB]],
    ["JSON text", '[{"containerPort":80,"hostPort":8080}]', [WEB]],
    ["empty list", [], []],
    [
      "IPv6 host IPs",
      ["::", "2001:db8::1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8", "fe80::"].map(
        (ip) => ({
          containerPort: 80,
          hostPort: 8080,
          hostIP: ip,
        }),
      ),
      ["::", "2001:db8::1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8", "fe80::"].map(
        (ip) => ({ ...WEB, hostIP: ip }),
      ),
    ],
  ];
  for (const [name, value, want] of cases) {
    await t.step(name, () => deepEqual(parsePortMappings(value), want));
  }
});

Deno.test("parsePortMappings() drops entries with host port 0", () => {
  deepEqual(
    parsePortMappings([
      { container_port: 80, host_port: 0 },
      { container_port: 81 },
      { containerPort: 82, hostPort: null },
      { containerPort: 80, hostPort: 8080 },
    ]),
    [WEB],
  );
});

const BAD: [string, unknown, number, string][] = [
  // [case, input, code, what the message must name]
  ["undecodable text", "[{", 6, "--port-mappings"],
  [
    "an object, not a list",
    { containerPort: 80 },
    7,
    "--port-mappings: expected a JSON array",
  ],
  ["null", null, 7, "--port-mappings"],
  ["a number entry", [1], 7, "--port-mappings[0]: expected an object"],
  ["an array entry", [[80, 8080]], 7, "--port-mappings[0]"],
  [
    "missing container port",
    [{ host_port: 80 }],
    7,
    "--port-mappings[0].containerPort",
  ],
  [
    "container port 0",
    [{ container_port: 0, host_port: 80 }],
    7,
    "--port-mappings[0].container_port",
  ],
  [
    "container port too large",
    [{ containerPort: 70000, hostPort: 80 }],
    7,
    "--port-mappings[0].containerPort",
  ],
  [
    "fractional container port",
    [{ containerPort: 80.5, hostPort: 80 }],
    7,
    "--port-mappings[0].containerPort",
  ],
  [
    "host port too large",
    [{ containerPort: 80, hostPort: 65536 }],
    7,
    "--port-mappings[0].hostPort",
  ],
  [
    "negative host port",
    [{ container_port: 80, host_port: -1 }],
    7,
    "--port-mappings[0].host_port",
  ],
  [
    "host port as a string",
    [{ ContainerPort: 80, HostPort: "80" }],
    7,
    "--port-mappings[0].HostPort",
  ],
  [
    "second entry bad",
    [{ containerPort: 80, hostPort: 80 }, {
      container_port: 80,
      host_port: 1e6,
    }],
    7,
    "--port-mappings[1].host_port",
  ],
  [
    "CRI protocol 3",
    [{ container_port: 80, host_port: 80, protocol: 3 }],
    7,
    "--port-mappings[0].protocol",
  ],
  [
    "protocol icmp",
    [{ containerPort: 80, hostPort: 80, protocol: "icmp" }],
    7,
    `unknown protocol "icmp"`,
  ],
  [
    "empty protocol",
    [{ containerPort: 80, hostPort: 80, protocol: "" }],
    7,
    "--port-mappings[0].protocol",
  ],
  [
    "boolean protocol",
    [{ containerPort: 80, hostPort: 80, Protocol: true }],
    7,
    "--port-mappings[0].Protocol",
  ],
  [
    "truncated IPv4",
    [{ containerPort: 80, hostPort: 80, hostIP: "1.2.3" }],
    7,
    "--port-mappings[0].hostIP",
  ],
  [
    "IPv4 octet past 255",
    [{ container_port: 80, host_port: 80, host_ip: "256.1.1.1" }],
    7,
    "--port-mappings[0].host_ip",
  ],
  [
    "IPv4 leading zero",
    [{ containerPort: 80, hostPort: 80, hostIP: "01.2.3.4" }],
    7,
    `"01.2.3.4"`,
  ],
  [
    "two :: in IPv6",
    [{ ContainerPort: 80, HostPort: 80, HostIP: "1::2::3" }],
    7,
    "--port-mappings[0].HostIP",
  ],
  [
    "IPv6 with a zone",
    [{ containerPort: 80, hostPort: 80, hostIP: "fe80::1%eth0" }],
    7,
    "--port-mappings[0].hostIP",
  ],
  [
    "IPv4 before ::",
    [{ containerPort: 80, hostPort: 80, hostIP: "1.2.3.4::" }],
    7,
    "--port-mappings[0].hostIP",
  ],
  [
    "host IP as a number",
    [{ containerPort: 80, hostPort: 80, hostIP: 5 }],
    7,
    "--port-mappings[0].hostIP",
  ],
  [
    "unknown field",
    [{ containerPort: 80, "host-port": 80 }],
    7,
    "--port-mappings[0].host-port",
  ],
  [
    "one field spelt twice",
    [{ containerPort: 80, hostPort: 80, host_port: 81 }],
    7,
    "--port-mappings[0].host_port",
  ],
  [
    "bad dropped entry still checked",
    [{ containerPort: 0 }],
    7,
    "--port-mappings[0].containerPort",
  ],
];

Deno.test("parsePortMappings() rejects bad entries naming the index and field", async (t) => {
  for (const [name, value, code, mention] of BAD) {
    await t.step(
      name,
      () => assertCniError(() => parsePortMappings(value), code, mention),
    );
  }
  await t.step("names the given source", () => {
    assertCniError(
      () => parsePortMappings([{}], "portMappings capability"),
      7,
      "portMappings capability[0]",
    );
  });
});
