/**
 * The one place that writes log lines: to a file when configured, else to
 * stderr; never to stdout, which belongs to the CNI protocol. Fields whose
 * names look secret are redacted.
 *
 * @module
 */

/**
 * Log levels, most verbose first (syslog's order). `notice` is the default:
 * the few lines an operator wants without asking (serve's start-up line),
 * then warnings and errors.
 */
export type LogLevel = "debug" | "info" | "notice" | "warn" | "error";

/** How lines are written: `text` for people, `json` for log shippers. */
export type LogFormat = "text" | "json";

const LEVELS: Record<LogLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warn: 3,
  error: 4,
};
const SECRET_KEY =
  /pass(word)?|secret|token|key|credential|kubeconfig|auth|cert/i;
const ENCODER = new TextEncoder();

/** A logger. */
export interface Logger {
  /** Logs at `level` with optional structured fields. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Shorthands. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Shorthands. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Shorthands. */
  notice(message: string, fields?: Record<string, unknown>): void;
  /** Shorthands. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Shorthands. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default {"info"} */
  level?: LogLevel;
  /** Append to this file (created 0600) instead of stderr. */
  file?: string | undefined;
  /**
   * `text`: `<ISO time> <level> <message> <fields as JSON>`; `json`: one
   * object per line, `{time, level, msg, ...fields}`.
   * @default {"text"}
   */
  format?: LogFormat;
}

/** True when `level` is a known level name. */
export function isLogLevel(level: string): level is LogLevel {
  return Object.hasOwn(LEVELS, level);
}

/** The level names, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.keys(
  LEVELS,
) as LogLevel[];

/** Replaces the values of secret-looking keys, at any depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

/** Makes a logger writing synchronously (a CLI run is short; lines must not be lost on exit). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? "info"];
  const write = (line: string) => {
    const data = ENCODER.encode(line + "\n");
    try {
      if (options.file) {
        // Opened per line: a logger has no end to close a file at, and
        // serve makes one per request.
        using file = Deno.openSync(options.file, {
          append: true,
          create: true,
          mode: 0o600,
        });
        file.writeSync(data);
      } else {
        Deno.stderr.writeSync(data);
      }
    } catch {
      // Logging must never fail an operation.
    }
  };
  const log = (
    level: LogLevel,
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    if (LEVELS[level] < min) return;
    const time = new Date().toISOString();
    if (options.format === "json") {
      // Time, level and message first, and never overwritten by a field.
      const line: Record<string, unknown> = { time, level, msg: message };
      const safe = fields ? redact(fields) as Record<string, unknown> : {};
      for (const [k, v] of Object.entries(safe)) {
        if (!Object.hasOwn(line, k)) line[k] = v;
      }
      write(JSON.stringify(line));
      return;
    }
    const extra = fields ? " " + JSON.stringify(redact(fields)) : "";
    write(`${time} ${level} ${message}${extra}`);
  };
  return {
    log,
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    notice: (m, f) => log("notice", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

/** A logger that drops everything (library default). */
export const SILENT_LOGGER: Logger = {
  log() {},
  debug() {},
  info() {},
  notice() {},
  warn() {},
  error() {},
};
