/**
 * A small CRI v1 client for the containerd end-to-end tests (there is no
 * `crictl` package here): npm `@grpc/grpc-js` and `@grpc/proto-loader`
 * over containerd's unix socket, with the RuntimeService subset of
 * `_containerd_cri.proto` (the public API's field numbers). Messages are
 * the loader's plain objects: camelCase fields, enums as their names,
 * 64-bit integers as strings, defaults filled in — the JSON `crictl`
 * prints.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO = new URL("./_containerd_cri.proto", import.meta.url).pathname;

/** `PortMapping`. */
export interface PortMapping {
  protocol?: "TCP" | "UDP" | "SCTP";
  containerPort: number;
  hostPort: number;
  hostIp?: string;
}

/** `PodSandboxMetadata`. */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

/** `PodSandboxConfig` (the fields the tests set). */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    sysctls?: Record<string, string>;
  };
}

/** `PodSandboxStatus`. */
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: "SANDBOX_READY" | "SANDBOX_NOTREADY";
  createdAt: string;
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: {
    namespaces: {
      options: {
        network: string;
        pid: string;
        ipc: string;
        targetId: string;
      } | null;
    } | null;
  } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

/** `PodSandboxStatusResponse`. */
export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  /** With `verbose`: containerd's `info` key, a JSON text. */
  info: Record<string, string>;
}

/** `RuntimeCondition`. */
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** `VersionResponse`. */
export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

type Callback = (error: grpc.ServiceError | null, response: unknown) => void;
type Stub = grpc.Client & {
  [method: string]: (
    request: unknown,
    options: grpc.CallOptions,
    callback: Callback,
  ) => unknown;
};

let definition: protoLoader.PackageDefinition | undefined;

/** The CRI RuntimeService of one containerd socket. */
export class CriClient {
  readonly #stub: Stub;

  /** A client of the CRI endpoint at unix socket `socket`. */
  constructor(readonly socket: string) {
    definition ??= protoLoader.loadSync(PROTO, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
    });
    // deno-lint-ignore no-explicit-any -- the loaded package is untyped
    const pkg = grpc.loadPackageDefinition(definition) as any;
    this.#stub = new pkg.runtime.v1.RuntimeService(
      `unix://${socket}`,
      grpc.credentials.createInsecure(),
    );
  }

  /**
   * One unary call; rejects with the method and gRPC's status message, or
   * after `timeoutMs` (a sandbox stuck in CNI must not hang the test).
   */
  call<T>(method: string, request: unknown, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#stub[method]!(
        request,
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error) {
            reject(
              new Error(`CRI ${method}: ${error.details || error.message}`, {
                cause: error,
              }),
            );
          } else resolve(response as T);
        },
      );
    });
  }

  /** `Version`. */
  version(): Promise<VersionResponse> {
    return this.call("Version", { version: "v1" });
  }

  /** `Status`: the runtime's conditions (`RuntimeReady`, `NetworkReady`). */
  async status(): Promise<RuntimeCondition[]> {
    const r = await this.call<{ status: { conditions: RuntimeCondition[] } }>(
      "Status",
      {},
      5_000,
    );
    return r.status.conditions;
  }

  /** `RunPodSandbox`: the new sandbox's ID. */
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const r = await this.call<{ podSandboxId: string }>(
      "RunPodSandbox",
      { config },
    );
    return r.podSandboxId;
  }

  /** `PodSandboxStatus`. */
  podSandboxStatus(
    id: string,
    verbose = false,
  ): Promise<PodSandboxStatusResponse> {
    return this.call("PodSandboxStatus", { podSandboxId: id, verbose });
  }

  /** `StopPodSandbox`. */
  async stopPodSandbox(id: string): Promise<void> {
    await this.call("StopPodSandbox", { podSandboxId: id });
  }

  /** `RemovePodSandbox`. */
  async removePodSandbox(id: string): Promise<void> {
    await this.call("RemovePodSandbox", { podSandboxId: id });
  }

  /** Closes the channel. */
  close(): void {
    this.#stub.close();
  }
}

/**
 * What `crictl inspectp` prints for a sandbox: `status`, and beside it each
 * key of the verbose `info` with its JSON value parsed (containerd's one key
 * is `info`).
 */
export function inspectp(
  response: PodSandboxStatusResponse,
): Record<string, unknown> {
  const out: Record<string, unknown> = { status: response.status };
  for (const [k, v] of Object.entries(response.info).sort()) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}
