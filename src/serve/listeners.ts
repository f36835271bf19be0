/**
 * The socket plumbing of `cnishim serve`: the unix socket bound at its
 * path (already listening and 0660 when it appears there) or the one
 * systemd passed; connections accepted through accept errors, counted and
 * bounded, each served by `http1.ts`; and a close that removes only the
 * socket it created. Routing and the drain
 * are `server.ts`'s.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import type { Server as NetServer, Socket as NetSocket } from "node:net";
import { dirName } from "../spec/posix_path.ts";
import type { Logger } from "../log/logger.ts";
import {
  type ByteConn,
  type Http1Hooks,
  type Http1Limits,
  serveConnection,
} from "./http1.ts";

/** A socket being served. */
export interface Listener {
  /**
   * Stops accepting, closes every connection (the caller has let the
   * answers in flight be written) and removes what it created.
   */
  close(): Promise<void>;
  /** Removes the socket it created, now (for a process about to die). */
  abandon(): void;
}

/** How connections are served and bounded. */
export interface ConnectionOptions {
  /** The HTTP limits of each connection. */
  limits: Http1Limits;
  /** What each request needs from the server. */
  hooks: Http1Hooks;
  /**
   * Most connections open at once; one past it is answered with `busy`
   * and closed at once.
   */
  maxConnections: number;
  /** The answer to a connection past `maxConnections`. */
  busy: () => Response;
  /** Where accept errors are reported. */
  logger: Logger;
}

// The connections of one listener: counted, bounded, closed at the end.
class Connections {
  readonly open = new Set<ByteConn>();
  #ended: Promise<void>[] = [];
  constructor(private readonly options: ConnectionOptions) {}

  serve(conn: ByteConn): void {
    const o = this.options;
    if (this.open.size >= o.maxConnections) {
      // Answered once its head is in (closing first would cost the client
      // its request's write, not tell it to retry), but given only 1 s.
      const brief = {
        ...o.limits,
        headerTimeoutMs: Math.min(o.limits.headerTimeoutMs, 1000),
      };
      this.#track(conn, serveConnection(conn, brief, refuseAll(o)));
      return;
    }
    this.#track(conn, serveConnection(conn, o.limits, o.hooks));
  }

  #track(conn: ByteConn, ended: Promise<void>): void {
    this.open.add(conn);
    const done = ended.finally(() => {
      this.open.delete(conn);
      this.#ended = this.#ended.filter((p) => p !== done);
    });
    this.#ended.push(done);
  }

  async closeAll(): Promise<void> {
    for (const conn of this.open) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#ended);
  }
}

// A connection past the bound: its first request head gets `busy`.
function refuseAll(o: ConnectionOptions): Http1Hooks {
  return {
    open: () => ({ handle: () => Promise.resolve(o.busy()), done() {} }),
    refuse: o.hooks.refuse,
    keepAlive: () => false,
  };
}

/**
 * Accepts until the listener is closed. An accept error (EMFILE, ENFILE,
 * ENOMEM: the process or the node out of something a connection needs)
 * is logged and waited out, backing off from 10 ms to 1 s, instead of
 * ending the server: the connections already open keep being served and
 * release what the next accept needs.
 */
async function acceptLoop(
  listener: Deno.Listener,
  connections: Connections,
  logger: Logger,
  closed: () => boolean,
): Promise<void> {
  let backoff = 0;
  let failures = 0;
  for (;;) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (closed() || error instanceof Deno.errors.BadResource) return;
      backoff = Math.min(backoff ? backoff * 2 : 10, 1000);
      // One line per burst, not per failed accept.
      if (failures++ % 100 === 0) {
        logger.warn("serve: cannot accept a connection; backing off", {
          error: errorText(error),
          failures,
          backoffMs: backoff,
          open: connections.open.size,
        });
      }
      await new Promise((r) => setTimeout(r, backoff));
      continue;
    }
    if (failures) {
      logger.notice("serve: accepting again", { failures });
      failures = 0;
    }
    backoff = 0;
    connections.serve(conn);
  }
}

/**
 * Serves a socket bound beside `socket` (in a fresh 0700 dir), made 0660,
 * then renamed in, so that it appears at its path listening and with its
 * mode.
 */
export async function listenOnPath(
  socket: string,
  options: ConnectionOptions,
): Promise<Listener> {
  const bindAt = await bindPath(socket);
  let listener: Deno.Listener | undefined;
  let ino: number | null;
  try {
    listener = bindRelative(
      bindAt,
      (path) => Deno.listen({ transport: "unix", path }),
    );
    await Deno.chmod(bindAt, 0o660);
    await Deno.rename(bindAt, socket);
    ino = (await Deno.lstat(socket)).ino;
  } catch (error) {
    listener?.close();
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": ${errorText(error)}`,
      { cause: error },
    );
  } finally {
    await Deno.remove(dirName(bindAt), { recursive: true }).catch(() => {});
  }
  const bound = listener;
  const connections = new Connections(options);
  let closed = false;
  const accepting = acceptLoop(
    bound,
    connections,
    options.logger,
    () => closed,
  );
  return {
    async close() {
      closed = true;
      try {
        bound.close();
      } catch { /* already closed */ }
      await accepting;
      await connections.closeAll();
      // Only our own socket: another server may have taken the path since.
      const now = await Deno.lstat(socket).catch(() => undefined);
      if (now && now.ino === ino) await Deno.remove(socket).catch(() => {});
    },
    abandon: () => removeNowIfOurs(socket, ino),
  };
}

// Synchronous: the process may be dying, with no turn of the loop left.
function removeNowIfOurs(socket: string, ino: number | null): void {
  try {
    if (Deno.lstatSync(socket).ino === ino) Deno.removeSync(socket);
  } catch { /* gone already */ }
}

/**
 * Serves an inherited socket. Deno cannot make a listener of a file
 * descriptor; node:net can, and its sockets are adapted to the same
 * connection handling, so both paths answer alike. (Measured on Deno
 * 2.9.6: node:net's listener stops accepting for good after one EMFILE,
 * so here the connection bound is also kept under the fd limit.)
 */
export async function listenOnFd(
  fd: number,
  socket: string,
  options: ConnectionOptions,
): Promise<Listener> {
  // Loaded here, not imported at the top: node:net brings Deno's Node
  // layer, and in the one-file bundle a top-level import is evaluated at
  // every start of every command (measured: `version` 46 → 24 ms).
  const { createServer } = await import("node:net");
  const connections = new Connections({
    ...options,
    maxConnections: Math.min(options.maxConnections, await fdBudget()),
  });
  const server: NetServer = createServer(
    { allowHalfOpen: false },
    (sock) => connections.serve(adaptSocket(sock)),
  );
  server.on("error", (error: Error) => {
    options.logger.warn("serve: error on the inherited socket", {
      error: error.message,
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ fd }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot serve the inherited socket (fd ${fd}, ${socket}): ${
        errorText(error)
      }`,
      { cause: error },
    );
  }
  return {
    async close() {
      const stopped = new Promise<void>((r) => server.close(() => r()));
      await connections.closeAll();
      await stopped;
    },
    abandon() {}, // systemd's socket: systemd removes it
  };
}

// Connections that fit under the soft RLIMIT_NOFILE with 64 descriptors to
// spare (plugins' pipes, cache files, the conf dir's watcher); at least 8.
async function fdBudget(): Promise<number> {
  const limits = await Deno.readTextFile("/proc/self/limits").catch(() => "");
  const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
  return soft === undefined ? Infinity : Math.max(8, Number(soft) - 64);
}

// A node socket as a ByteConn: its data queued, paused while unread.
function adaptSocket(sock: NetSocket): ByteConn {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  sock.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    sock.pause();
    notify();
  });
  sock.on("end", () => {
    ended = true;
    notify();
  });
  sock.on("close", () => {
    ended = true;
    notify();
  });
  sock.on("error", (error: Error) => {
    failure = error;
    notify();
  });
  return {
    async read(p) {
      while (chunks.length === 0) {
        if (failure) throw failure;
        if (ended) return null;
        sock.resume();
        await new Promise<void>((r) => wake = r);
      }
      const chunk = chunks[0]!;
      const n = Math.min(p.length, chunk.length);
      p.set(chunk.subarray(0, n));
      if (n === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(n);
      return n;
    },
    write(p) {
      if (failure) return Promise.reject(failure);
      if (sock.destroyed) return Promise.reject(new Error("socket closed"));
      const copy = p.slice();
      return new Promise((resolve, reject) =>
        sock.write(
          copy,
          (error?: Error | null) =>
            error ? reject(error) : resolve(copy.length),
        )
      );
    },
    closeWrite() {
      return new Promise<void>((resolve) => sock.end(() => resolve()));
    },
    close() {
      ended = true;
      sock.destroy();
      notify();
    },
  };
}

/**
 * The path of the unix socket behind an inherited descriptor, from
 * `/proc/self/fd` and `/proc/net/unix`; `fd <n>` when it has none.
 *
 * @throws {CniError} code 5 when the descriptor is not a socket
 */
export async function inheritedSocketPath(fd: number): Promise<string> {
  let link: string;
  try {
    link = await Deno.readLink(`/proc/self/fd/${fd}`);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Socket activation passed fd ${fd}, which is not open: ${
        errorText(error)
      }`,
    );
  }
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (!inode) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Socket activation passed fd ${fd}, which is not a socket (${link})`,
    );
  }
  const table = await Deno.readTextFile("/proc/net/unix").catch(() => "");
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[6] === inode && cols[7]) return cols[7];
  }
  return `fd ${fd}`;
}

/**
 * The socket's dir: created 0750 when missing (the socket's group must be
 * able to reach it); an existing dir is the operator's and left alone.
 */
export async function prepareParent(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new CniError(
        CNI_ERROR_CODES.ioFailure,
        `Cannot listen in "${dir}": not a directory`,
      );
    }
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
    await Deno.chmod(dir, 0o750);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot create the socket directory "${dir}": ${errorText(error)}`,
      { cause: error },
    );
  }
}

/** Refuses a socket path where a server listens or a non-socket is. */
export async function refuseLiveOrForeign(socket: string): Promise<void> {
  const info = await Deno.lstat(socket).catch(() => undefined);
  if (!info) return;
  if (!info.isSocket) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": it exists and is not a socket`,
    );
  }
  let conn: Deno.UnixConn | undefined;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch {
    return; // stale: nobody accepts; the rename replaces it
  }
  conn.close();
  throw new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot listen on "${socket}": another server is listening there`,
  );
}

// A fresh 0700 dir beside the socket, so that nobody can connect before the
// mode is 0660 and a stale socket is replaced atomically by the rename.
async function bindPath(socket: string): Promise<string> {
  try {
    const dir = await Deno.makeTempDir({
      dir: dirName(socket),
      prefix: ".cnishim-serve-",
    });
    return `${dir}/s`;
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": ${errorText(error)}`,
      { cause: error },
    );
  }
}

// Bound by its path relative to the socket's dir, so that a socket path
// that fits sun_path never fails because the temp dir beside it is longer.
// chdir is process-wide, but this is synchronous: no other JS runs between
// the two chdirs, and a child spawned later gets the cwd back.
function bindRelative<T>(bindAt: string, bind: (path: string) => T): T {
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch {
    return bind(bindAt); // no cwd to come back to
  }
  Deno.chdir(dirName(bindAt));
  try {
    return bind("s");
  } finally {
    Deno.chdir(cwd);
  }
}
