/**
 * What `cnishim serve` exposes on `GET /metrics`: requests and their
 * latency per operation, each plugin call's duration, errors by CNI code,
 * operations in flight, the networks loaded and skipped, and the last
 * conf-dir rescan (when, and how it ended).
 *
 * @module
 */
import type { PluginExec } from "../invoke/exec_plugin.ts";
import type { CniErrorObject } from "../spec/errors.ts";
import { MetricsRegistry } from "./metrics.ts";
import type { RequestObserver } from "./server.ts";
import type { WarmNetworksStats } from "./warm_networks.ts";

/** What the metrics read when rendered. */
export interface ServeMetricsSources {
  /** Operations running now. */
  inFlight(): number;
  /** The warm conf dir's counters. */
  conf(): WarmNetworksStats;
}

/** The serve metrics: an observer for the server, a timed plugin runner, the text. */
export interface ServeMetrics {
  /** Give to `startServer`. */
  observer: RequestObserver;
  /** `inner`, with each call's duration recorded per plugin type and verb. */
  timedExec(inner: PluginExec): PluginExec;
  /** The exposition text. */
  render(): string;
}

const RESCAN_OUTCOMES = ["loaded", "kept-last-good", "failed"] as const;

/** Makes the serve metrics over `sources`. */
export function createServeMetrics(sources: ServeMetricsSources): ServeMetrics {
  const r = new MetricsRegistry();
  const requests = r.counter(
    "cnishim_requests_total",
    "Requests answered, by operation and HTTP status.",
    ["operation", "status"],
  );
  const latency = r.histogram(
    "cnishim_request_duration_seconds",
    "Time from a request's first byte to its answer, by operation.",
    ["operation"],
  );
  const plugin = r.histogram(
    "cnishim_plugin_exec_duration_seconds",
    "Duration of each plugin process, by plugin type, CNI verb and outcome.",
    ["plugin", "command", "outcome"],
  );
  const errors = r.counter(
    "cnishim_errors_total",
    "Failed requests by CNI error code (4 for a usage error).",
    ["code"],
  );
  r.gauge(
    "cnishim_operations_in_flight",
    "Operations running now.",
    [],
    () => [[{}, sources.inFlight()]],
  );
  r.gauge(
    "cnishim_networks_loaded",
    "Networks loaded from the conf dir.",
    [],
    () => [[{}, sources.conf().loaded]],
  );
  r.gauge(
    "cnishim_networks_skipped",
    "Files of the conf dir skipped as invalid.",
    [],
    () => [[{}, sources.conf().skipped]],
  );
  r.gauge(
    "cnishim_conf_rescan_timestamp_seconds",
    "When the last rescan of the conf dir ended (Unix time).",
    [],
    () => {
      const at = sources.conf().lastScanAt;
      return at === undefined ? [] : [[{}, at / 1000]];
    },
  );
  r.gauge(
    "cnishim_conf_rescan_outcome",
    "How the last rescan ended: 1 for its outcome (loaded, kept-last-good, failed), 0 for the others.",
    ["outcome"],
    () => {
      const last = sources.conf().lastScanOutcome;
      return RESCAN_OUTCOMES.map((o) => [{ outcome: o }, o === last ? 1 : 0]);
    },
  );
  return {
    observer: {
      finished(
        operation: string,
        status: number,
        error: CniErrorObject | undefined,
        seconds: number,
      ) {
        requests.inc({ operation, status: String(status) });
        latency.observe({ operation }, seconds);
        if (error) errors.inc({ code: String(error.code) });
      },
    },
    timedExec(inner) {
      return {
        async execPlugin(request) {
          const started = performance.now();
          let outcome = "error";
          try {
            const out = await inner.execPlugin(request);
            outcome = "ok";
            return out;
          } finally {
            plugin.observe(
              {
                plugin: request.pluginType,
                command: request.command,
                outcome,
              },
              (performance.now() - started) / 1000,
            );
          }
        },
      };
    },
    render: () => r.render(),
  };
}
