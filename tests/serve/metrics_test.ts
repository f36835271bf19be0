/**
 * `GET /metrics` of `cnishim serve` and `cnishim metrics`: the text is
 * checked against the Prometheus text exposition format's grammar (by the
 * strict reader below, written from the format's description), and its
 * values against what the test made the server do. Fake plugins; no root.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { bedFor, rawHttp, startServe } from "./_serve.ts";
import { MetricsRegistry } from "../../src/serve/metrics.ts";

const NETNS = "/proc/self/ns/net";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface MetricFamily {
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"];

/**
 * Reads exposition text strictly: every line is a HELP, a TYPE or a sample
 * of the family announced last; label values escape only `\\`, `"` and
 * `\n`; values are Go floats (or `+Inf`, `-Inf`, `NaN`); the text ends
 * with a newline. Throws naming the line for anything else.
 */
function parseExposition(text: string): Map<string, MetricFamily> {
  ok(text.endsWith("\n"), "the text ends with a newline");
  const families = new Map<string, MetricFamily>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [
        string,
        string,
        string,
        string,
      ];
      ok(METRIC_NAME.test(name), where);
      const family = families.get(name) ??
        { type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        ok(TYPES.includes(rest), where);
        equal(family.samples.length, 0, `${where}: TYPE after samples`);
        family.type = rest;
      } else {
        ok(!/\\[^\\n]/.test(rest.replaceAll("\\\\", "")), where);
        family.help = rest.replaceAll("\\n", "\n").replaceAll("\\\\", "\\");
      }
      families.set(name, family);
      current = name;
      return;
    }
    ok(!line.startsWith("#"), `${where}: an unknown comment`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(
      line,
    );
    ok(m, `${where}: not a sample`);
    const [, name, , body = "", valueText] = m as unknown as string[];
    const labels: Record<string, string> = {};
    let rest = body;
    while (rest.length) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/
        .exec(rest);
      ok(l, `${where}: bad labels at ${JSON.stringify(rest)}`);
      ok(LABEL_NAME.test(l[1]!), where);
      ok(!Object.hasOwn(labels, l[1]!), `${where}: label twice`);
      labels[l[1]!] = l[2]!.replace(
        /\\(.)/g,
        (_, c) => c === "n" ? "\n" : c,
      );
      rest = rest.slice(l[0].length);
    }
    ok(
      /^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(valueText!),
      `${where}: bad value`,
    );
    const value = valueText === "+Inf"
      ? Infinity
      : valueText === "-Inf"
      ? -Infinity
      : Number(valueText);
    const family = current ? families.get(current) : undefined;
    ok(family, `${where}: a sample before any TYPE`);
    const base = family.type === "histogram"
      ? name!.replace(/_(bucket|sum|count)$/, "")
      : name;
    equal(base, current, `${where}: a sample of another family`);
    family.samples.push({ name: name!, labels, value });
  });
  for (const [name, f] of families) {
    if (f.type === "counter") ok(name.endsWith("_total"), name);
    if (f.type === "histogram") checkHistogram(name, f);
  }
  return families;
}

// Buckets ascending and cumulative, `+Inf` equal to `_count`, a `_sum`.
function checkHistogram(name: string, f: MetricFamily): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const les = buckets.map((b) =>
      b.labels.le === "+Inf" ? Infinity : Number(b.labels.le)
    );
    ok(les.length > 0 && les.at(-1) === Infinity, `${name}${key}: +Inf`);
    for (let i = 1; i < les.length; i++) {
      ok(les[i]! > les[i - 1]!, `${name}${key}: le ascending`);
      ok(
        buckets[i]!.value >= buckets[i - 1]!.value,
        `${name}${key}: cumulative`,
      );
    }
    const count = samples.find((s) => s.name === `${name}_count`);
    ok(count && samples.some((s) => s.name === `${name}_sum`), key);
    equal(buckets.at(-1)!.value, count.value, `${name}${key}: +Inf = count`);
  }
}

function value(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, "")) ??
    families.get(name);
  return family?.samples.find((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

Deno.test("the registry escapes label values and help text as the format says, and refuses bad names", () => {
  const r = new MetricsRegistry();
  r.counter("x_total", 'a \\ b\nc "d"', ["v"]).inc({ v: 'q"\\\nz' }, 2);
  const h = r.histogram("lat_seconds", "h", ["op"], [0.1, 1]);
  h.observe({ op: "a" }, 0.05);
  h.observe({ op: "a" }, 5);
  const text = r.render();
  equal(
    text.split("\n").slice(0, 3).join("\n"),
    '# HELP x_total a \\\\ b\\nc "d"\n# TYPE x_total counter\nx_total{v="q\\"\\\\\\nz"} 2',
  );
  const parsed = parseExposition(text);
  equal(parsed.get("x_total")!.samples[0]!.labels.v, 'q"\\\nz');
  equal(value(parsed, "lat_seconds_bucket", { le: "0.1" }), 1);
  equal(value(parsed, "lat_seconds_bucket", { le: "1" }), 1);
  equal(value(parsed, "lat_seconds_bucket", { le: "+Inf" }), 2);
  equal(value(parsed, "lat_seconds_sum"), 5.05);
  let error: unknown;
  try {
    r.counter("bad-name", "x");
  } catch (e) {
    error = e;
  }
  match(String(error), /Invalid metric name "bad-name"/);
});

Deno.test("GET /metrics and cnishim metrics: requests and latency per operation, plugin durations, errors by code, in flight, networks, the last rescan", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a", "b"] }]);
  await Deno.writeTextFile(join(bed.conf, "90-broken.conflist"), "{");
  await using server = await startServe(bed.socket, bed.flags);
  const before = Date.now() / 1000;

  const added = await runCli(["--socket", server.socket, "add", "c1", NETNS]);
  equal(added.code, 0, explain(added));
  await fake.answer("b", "ADD", {
    stdout: { cniVersion: "1.0.0", code: 11, msg: "no more leases" },
    exit: 1,
  });
  const failed = await runCli(["--socket", server.socket, "add", "c2", NETNS]);
  equal(failed.code, 1, explain(failed));

  let text: string;
  {
    using http = rawHttp(server.socket);
    // A usage error from the command itself: the body says what is wrong.
    const usage = await http.post("/v1/add", '{"args":["c3"]}');
    equal(usage.status, 400);
    const error = await usage.json();
    equal(error.code, 4);
    equal(
      error.msg,
      "Wrong number of arguments: usage: cnishim add <container-id> <netns-path>",
    );
    const res = await http.get("/metrics");
    equal(res.status, 200);
    equal(
      res.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    text = await res.text();
  }
  const m = parseExposition(text);
  equal(
    value(m, "cnishim_requests_total", { operation: "add", status: "200" }),
    1,
  );
  equal(
    value(m, "cnishim_requests_total", { operation: "add", status: "503" }),
    1,
  );
  equal(
    value(m, "cnishim_requests_total", { operation: "add", status: "400" }),
    1,
  );
  equal(
    value(m, "cnishim_request_duration_seconds_count", { operation: "add" }),
    3,
  );
  equal(value(m, "cnishim_errors_total", { code: "11" }), 1);
  equal(value(m, "cnishim_errors_total", { code: "4" }), 1);
  // a ADD twice, b ADD twice (once failing), then the rollback's DELs.
  const plugin = (plugin: string, command: string, outcome: string) =>
    value(m, "cnishim_plugin_exec_duration_seconds_count", {
      plugin,
      command,
      outcome,
    });
  equal(plugin("a", "ADD", "ok"), 2);
  equal(plugin("b", "ADD", "ok"), 1);
  equal(plugin("b", "ADD", "error"), 1);
  equal(plugin("b", "DEL", "ok"), 1);
  equal(plugin("a", "DEL", "ok"), 1);
  ok(
    value(m, "cnishim_plugin_exec_duration_seconds_sum", {
      plugin: "a",
      command: "ADD",
      outcome: "ok",
    })! > 0,
  );
  equal(value(m, "cnishim_operations_in_flight"), 0);
  equal(value(m, "cnishim_networks_loaded"), 1);
  equal(value(m, "cnishim_networks_skipped"), 1);
  equal(value(m, "cnishim_conf_rescan_outcome", { outcome: "loaded" }), 1);
  equal(value(m, "cnishim_conf_rescan_outcome", { outcome: "failed" }), 0);
  const at = value(m, "cnishim_conf_rescan_timestamp_seconds")!;
  ok(at > before - 30 && at <= Date.now() / 1000, String(at));
  deepEqual(
    [...m.keys()],
    [
      "cnishim_requests_total",
      "cnishim_request_duration_seconds",
      "cnishim_plugin_exec_duration_seconds",
      "cnishim_errors_total",
      "cnishim_operations_in_flight",
      "cnishim_networks_loaded",
      "cnishim_networks_skipped",
      "cnishim_conf_rescan_timestamp_seconds",
      "cnishim_conf_rescan_outcome",
    ],
  );

  // The CLI prints the same text (reading it changes no counter; only the
  // rescan's time may move between the two reads).
  const cli = await runCli(["metrics", "--socket", server.socket]);
  equal(cli.code, 0, explain(cli));
  const stable = (t: string) =>
    t.replace(/^cnishim_conf_rescan_timestamp_seconds .*$/m, "");
  equal(stable(cli.stdout), stable(text));
  equal((await server.stop()).code, 0);
});

Deno.test("serve --no-metrics --log-format json: /metrics is an unknown operation, cnishim metrics says so, and the log is one JSON start-up line", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await using server = await startServe(bed.socket, [
    ...bed.flags,
    "--no-metrics",
    "--log-format",
    "json",
  ]);
  const cli = await runCli(["metrics", "--socket", server.socket]);
  equal(cli.code, 1, explain(cli));
  match(cli.stderr, /it serves no metrics \(started with --no-metrics\?\)/);
  const none = await runCli(["metrics", "--socket", join(fake.root, "none")]);
  equal(none.code, 1, explain(none));
  equal(none.json<{ code: number }>().code, 11);
  const exit = await server.stop();
  equal(exit.code, 0, exit.stderr);
  const lines = exit.stderr.trimEnd().split("\n").map((l) => JSON.parse(l));
  deepEqual(lines.map((l) => ({ ...l, time: typeof l.time })), [{
    time: "string",
    level: "notice",
    msg: `listening on ${bed.socket}, 1 networks from ${bed.conf}`,
  }]);
});
