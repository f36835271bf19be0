// Pure: no Deno API.
/**
 * A small metrics registry rendered in the Prometheus text exposition
 * format (version 0.0.4): counters, gauges and histograms with labels.
 * Small on purpose: `cnishim serve` needs a dozen series, and a client
 * library would cost every start-up its import.
 *
 * @module
 */

/** The content type of {@link MetricsRegistry.render}'s output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

type Kind = "counter" | "gauge" | "histogram";

interface Family {
  name: string;
  help: string;
  kind: Kind;
  labelNames: readonly string[];
  render(): string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A counter: only goes up. */
export interface Counter {
  /** Adds `by` (default 1) to the series of `labels`. */
  inc(labels?: Labels, by?: number): void;
}

/** A gauge: set to any value. */
export interface Gauge {
  /** Sets the series of `labels`. */
  set(labels: Labels, value: number): void;
  /** Adds `by` (may be negative) to the series of `labels`. */
  add(labels: Labels, by: number): void;
}

/** A histogram of observations (seconds, by convention). */
export interface Histogram {
  /** Records one observation in the series of `labels`. */
  observe(labels: Labels, value: number): void;
}

/** Latency buckets in seconds: 1 ms to 60 s (a plugin's default timeout). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** Metric families, rendered in registration order. */
export class MetricsRegistry {
  #families: Family[] = [];

  /** Registers a counter (`name` should end in `_total`). */
  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const series = new Map<string, number>();
    this.#register(
      name,
      help,
      "counter",
      labelNames,
      () => [...series].map(([key, v]) => `${name}${key} ${number(v)}`),
    );
    return {
      inc: (labels = {}, by = 1) => {
        const key = labelText(labelNames, labels);
        series.set(key, (series.get(key) ?? 0) + by);
      },
    };
  }

  /**
   * Registers a gauge. With `collect`, its series are read at render time
   * (values owned by someone else, such as the loaded networks).
   */
  gauge(
    name: string,
    help: string,
    labelNames: string[] = [],
    collect?: () => readonly [Labels, number][],
  ): Gauge {
    const series = new Map<string, number>();
    this.#register(name, help, "gauge", labelNames, () => {
      if (collect) {
        for (const [labels, v] of collect()) {
          series.set(labelText(labelNames, labels), v);
        }
      }
      return [...series].map(([key, v]) => `${name}${key} ${number(v)}`);
    });
    return {
      set: (labels, value) =>
        void series.set(labelText(labelNames, labels), value),
      add: (labels, by) => {
        const key = labelText(labelNames, labels);
        series.set(key, (series.get(key) ?? 0) + by);
      },
    };
  }

  /** Registers a histogram with upper bounds `buckets` (ascending; `+Inf` is added). */
  histogram(
    name: string,
    help: string,
    labelNames: string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): Histogram {
    if (labelNames.includes("le")) {
      throw new Error(`Histogram ${name} cannot have a label "le"`);
    }
    const series = new Map<
      string,
      { labels: Labels; counts: number[]; sum: number; count: number }
    >();
    this.#register(
      name,
      help,
      "histogram",
      labelNames,
      () =>
        [...series.values()].flatMap((s) => {
          const lines: string[] = [];
          let cumulative = 0;
          buckets.forEach((le, i) => {
            cumulative += s.counts[i]!;
            lines.push(
              `${name}_bucket${
                labelText([...labelNames, "le"], {
                  ...s.labels,
                  le: number(le),
                })
              } ${cumulative}`,
            );
          });
          lines.push(
            `${name}_bucket${
              labelText([...labelNames, "le"], { ...s.labels, le: "+Inf" })
            } ${s.count}`,
            `${name}_sum${labelText(labelNames, s.labels)} ${number(s.sum)}`,
            `${name}_count${labelText(labelNames, s.labels)} ${s.count}`,
          );
          return lines;
        }),
    );
    return {
      observe: (labels, value) => {
        const key = labelText(labelNames, labels);
        let s = series.get(key);
        if (!s) {
          s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
          series.set(key, s);
        }
        const i = buckets.findIndex((le) => value <= le);
        if (i !== -1) s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** Every family as exposition text, ending with a newline. */
  render(): string {
    const lines: string[] = [];
    for (const f of this.#families) {
      lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
      lines.push(`# TYPE ${f.name} ${f.kind}`);
      lines.push(...f.render());
    }
    return lines.join("\n") + "\n";
  }

  #register(
    name: string,
    help: string,
    kind: Kind,
    labelNames: readonly string[],
    render: () => string[],
  ): void {
    if (!NAME.test(name)) throw new Error(`Invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith("__")) {
        throw new Error(`Invalid label name "${l}" of ${name}`);
      }
    }
    if (this.#families.some((f) => f.name === name)) {
      throw new Error(`Metric "${name}" registered twice`);
    }
    this.#families.push({ name, help, kind, labelNames, render });
  }
}

// `{a="x",b="y"}` in the label names' order; empty for no labels.
function labelText(names: readonly string[], labels: Labels): string {
  if (names.length === 0) return "";
  return `{${
    names.map((n) => `${n}="${escapeLabel(labels[n] ?? "")}"`).join(",")
  }}`;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
    "\n",
    "\\n",
  );
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function number(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  return String(v);
}
