/**
 * The HTTP side of `cnishim serve`: a unix socket (mode 0660) serving one
 * operation per request, and a graceful stop that finishes what is in
 * flight, answers everything new with a CNI "try again later" error, then
 * removes the socket. What an operation does is the caller's (the CLI
 * passes a handler that runs its own commands), so that the server's
 * output is the CLI's by construction. Signals are the caller's too.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  type CniErrorObject,
  UsageError,
} from "../spec/errors.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { renderFailure } from "../spec/render_failure.ts";
import {
  listenOnFd,
  listenOnPath,
  prepareParent,
  refuseLiveOrForeign,
} from "./listeners.ts";
import { dirName } from "../spec/posix_path.ts";
import type { Http1Hooks, Http1Limits } from "./http1.ts";
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import {
  API_PREFIX,
  encodeStderr,
  EXIT_CODE_HEADER,
  httpStatus,
  MAX_REQUEST_BYTES,
  parseRequest,
  responseBody,
  type ServeReply,
  type ServeRequest,
  STDERR_HEADER,
} from "./protocol.ts";

/** Runs one operation as the CLI would. Must not throw. */
export type ServeHandler = (
  operation: string,
  request: ServeRequest,
) => Promise<ServeReply>;

/** What the server reports about each request, for metrics. */
export interface RequestObserver {
  /** A request for `operation` (`"unknown"` when not one) ended. */
  finished(
    operation: string,
    status: number,
    error: CniErrorObject | undefined,
    seconds: number,
  ): void;
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The socket path (absolute); with `listenFd`, only reported. */
  socket: string;
  /**
   * An inherited listening socket (systemd socket activation): served
   * instead of binding `socket`, and left in place at the stop (its
   * owner, systemd, removes it).
   */
  listenFd?: number;
  /** `GET /metrics` answers this text; without it, `/metrics` is unknown. */
  metrics?: () => string;
  /** Told about every request. */
  observer?: RequestObserver;
  /** The operations it serves; any other is a usage error. */
  operations: readonly string[];
  /** Runs the operations. */
  handle: ServeHandler;
  /** Where the server reports itself. @default {silent} */
  logger?: Logger;
  /** Its bounds, each {@link DEFAULT_SERVE_LIMITS}' unless given. */
  limits?: Partial<ServeLimits>;
}

/** What one server takes at most, and how long it waits. */
export interface ServeLimits extends Http1Limits {
  /** Operations running at once; one more is answered 503, code 11. */
  maxInFlight: number;
  /** Connections open at once; one more is answered 503, code 11. */
  maxConnections: number;
}

/**
 * The bounds of `cnishim serve`. A request is a few KiB and is sent at
 * once by a runtime on the same node, so a head that takes 10 s to come is
 * an attack or a wedged client; the body cap is the request protocol's.
 */
export const DEFAULT_SERVE_LIMITS: Readonly<ServeLimits> = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: MAX_REQUEST_BYTES,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  idleTimeoutMs: 15_000,
  maxInFlight: 64,
  maxConnections: 512,
};

/** A running server. */
export interface CnishimServer {
  /** The socket it listens on. */
  readonly socket: string;
  /** Operations running now. */
  readonly inFlight: number;
  /** True once {@link stop} was called. */
  readonly stopping: boolean;
  /**
   * Refuses new operations, waits for the running ones, stops listening
   * and removes the socket. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
  /**
   * Removes the socket it bound, synchronously: for a process dying of an
   * uncaught error, so that no stale socket is left for clients to hit.
   */
  abandon(): void;
}

/**
 * Starts serving on `options.socket`. A stale socket (nothing accepts on
 * it) is replaced; a live one, or anything that is not a socket, is an
 * error. The socket appears at its path already listening and already
 * 0660: it is bound in a private temp dir beside it and renamed in place.
 *
 * @throws {CniError} code 5 when the socket cannot be set up
 */
export async function startServer(
  options: ServerOptions,
): Promise<CnishimServer> {
  const { socket, handle, operations, observer } = options;
  const log = options.logger ?? SILENT_LOGGER;
  const inherited = options.listenFd !== undefined;
  if (!inherited) {
    await prepareParent(dirName(socket));
    await refuseLiveOrForeign(socket);
  }

  const limits = { ...DEFAULT_SERVE_LIMITS, ...options.limits };
  let inFlight = 0;
  // Requests whose head came before the stop: the stop waits until each
  // is answered (a body still arriving then is finished, not cut).
  let admitted = 0;
  let stopping: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const respond = (reply: ServeReply): Response => {
    const headers = new Headers({
      "content-type": "application/json",
      [EXIT_CODE_HEADER]: String(reply.exitCode),
    });
    if (reply.stderr) headers.set(STDERR_HEADER, encodeStderr(reply.stderr));
    return new Response(responseBody(reply), {
      status: httpStatus(reply),
      headers,
    });
  };
  const failed = (error: unknown): ServeReply => renderFailure(error);

  // The operation named by the path and its reply.
  const serveOne = async (
    request: Request,
    path: string,
    beforeStop: boolean,
  ): Promise<[string, ServeReply]> => {
    const operation = path.startsWith(API_PREFIX)
      ? path.slice(API_PREFIX.length)
      : "";
    if (!beforeStop) {
      // Drain the body so the client sees the answer, not a reset.
      await request.body?.cancel().catch(() => {});
      return [
        // A label of the metrics: only known names, whatever the path.
        operations.includes(operation) ? operation : "unknown",
        failed(
          new CniError(
            CNI_ERROR_CODES.tryAgainLater,
            "cnishim serve is stopping; try again later",
          ),
        ),
      ];
    }
    if (!operations.includes(operation)) {
      return [
        "unknown",
        failed(
          new UsageError(
            `Unknown operation "${path}": use ${API_PREFIX}<${
              operations.join("|")
            }>${options.metrics ? " or GET /metrics" : ""}`,
          ),
        ),
      ];
    }
    if (inFlight > limits.maxInFlight) {
      await request.body?.cancel().catch(() => {});
      return [operation, failed(busy(`${limits.maxInFlight} operations`))];
    }
    if (request.method !== "POST" && request.method !== "GET") {
      return [
        operation,
        failed(
          new UsageError(`Method ${request.method} is not allowed: use POST`),
        ),
      ];
    }
    let body: ServeRequest;
    try {
      body = parseRequest(operation, await request.text());
    } catch (error) {
      if (error instanceof UsageError) return [operation, failed(error)];
      throw error;
    }
    return [operation, await handle(operation, body)];
  };

  const serveHandler = async (
    request: Request,
    beforeStop: boolean,
  ): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics" && options.metrics && request.method === "GET") {
      return new Response(options.metrics(), {
        headers: { "content-type": METRICS_CONTENT_TYPE },
      });
    }
    inFlight++;
    const started = performance.now();
    try {
      const [operation, reply] = await serveOne(request, path, beforeStop);
      const response = respond(reply);
      observer?.finished(
        operation,
        response.status,
        reply.error,
        (performance.now() - started) / 1000,
      );
      return response;
    } catch (error) {
      log.error("serve: request failed", { error: String(error) });
      return respond(failed(error));
    } finally {
      inFlight--;
    }
  };
  const hooks: Http1Hooks = {
    open() {
      const beforeStop = !stopping;
      if (beforeStop) admitted++;
      return {
        handle: (request) => serveHandler(request, beforeStop),
        done() {
          if (beforeStop && --admitted === 0) drained?.();
        },
      };
    },
    refuse: ({ status, message }) => {
      // 408 and 413 are the client's to fix or retry; the CLI's code for
      // an argument too big is 4 (as for a pod input over its bound).
      const error = status === 408
        ? new CniError(CNI_ERROR_CODES.tryAgainLater, message)
        : status === 413
        ? new CniError(CNI_ERROR_CODES.invalidEnvironmentVariables, message)
        : new UsageError(message);
      return respond({ ...failed(error), httpStatus: status });
    },
    keepAlive: () => !stopping,
  };
  const connectionOptions = {
    limits,
    hooks,
    maxConnections: limits.maxConnections,
    busy: () => respond(failed(busy(`${limits.maxConnections} connections`))),
    logger: log,
  };
  const listener = inherited
    ? await listenOnFd(options.listenFd!, socket, connectionOptions)
    : await listenOnPath(socket, connectionOptions);

  let finish: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("stopping: finishing operations in flight", { inFlight });
      if (admitted > 0) {
        await new Promise<void>((resolve) => drained = resolve);
      }
      await listener.close();
      log.info("stopped", { socket });
      finish();
    })();
    return stopping;
  };
  return {
    socket,
    get inFlight() {
      return inFlight;
    },
    get stopping() {
      return stopping !== undefined;
    },
    stop,
    finished,
    abandon: () => listener.abandon(),
  };
}

// The answer past a bound: code 11, which the --socket client reports for
// the runtime to retry and the front-end plugin's forwarder takes as "run
// it yourself".
function busy(what: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.tryAgainLater,
    `cnishim serve is busy (${what} at once); try again later`,
  );
}
