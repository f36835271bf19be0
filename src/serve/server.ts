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
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import {
  API_PREFIX,
  encodeStderr,
  EXIT_CODE_HEADER,
  httpStatus,
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
}

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

  let inFlight = 0;
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
  ): Promise<[string, ServeReply]> => {
    const operation = path.startsWith(API_PREFIX)
      ? path.slice(API_PREFIX.length)
      : "";
    if (stopping) {
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

  const serveHandler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics" && options.metrics && request.method === "GET") {
      return new Response(options.metrics(), {
        headers: { "content-type": METRICS_CONTENT_TYPE },
      });
    }
    // Counted from the first byte: a request whose body is still arriving
    // when the stop begins is finished, not cut.
    inFlight++;
    const started = performance.now();
    try {
      const [operation, reply] = await serveOne(request, path);
      const response = respond(reply);
      observer?.finished(
        operation,
        response.status,
        reply.error,
        (performance.now() - started) / 1000,
      );
      return response;
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };
  const onError = (error: unknown): Response => {
    log.error("serve: request failed", { error: String(error) });
    return respond(failed(error));
  };

  const listener = inherited
    ? await listenOnFd(options.listenFd!, serveHandler, onError, socket)
    : await listenOnPath(socket, serveHandler, onError);

  let finish: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("stopping: finishing operations in flight", { inFlight });
      if (inFlight > 0) {
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
  };
}
