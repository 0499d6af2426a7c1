/**
 * One error class per meaning. Every error carries a stable `code`, whether retrying the same
 * operation may succeed (`retryable`), and the underlying `cause` when there is one.
 */
export abstract class BerthError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean;

  protected constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

export interface FieldIssue {
  /** JSON path of the offending field, e.g. `containers[0].portMappings[1].hostPort`. */
  readonly path: string;
  readonly message: string;
}

/** Input from a client or a file does not match the schema. Nothing was changed. */
export class ValidationError extends BerthError {
  readonly code = 'InvalidInput';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(
      issues.length === 0
        ? 'invalid input'
        : issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
    );
  }
}

/** No task with that ARN is known. */
export class TaskNotFoundError extends BerthError {
  readonly code = 'TaskNotFound';
  constructor(readonly arn: string) {
    super(`no task with arn ${JSON.stringify(arn)}`);
  }
}

/** The request contradicts what the agent already holds (a changed definition, a lowered desired status). */
export class TaskConflictError extends BerthError {
  readonly code = 'TaskConflict';
  constructor(message: string) {
    super(message);
  }
}

/** Docker answered 404 for a container. For stop and remove this means the work is done. */
export class ContainerNotFoundError extends BerthError {
  readonly code = 'ContainerNotFound';
  constructor(readonly ref: string, options: { cause?: unknown } = {}) {
    super(`no such container: ${ref}`, options);
  }
}

/** The container exists but is not running, so it has no usage to report (stats of a created or exited container). */
export class ContainerNotRunningError extends BerthError {
  readonly code = 'ContainerNotRunning';
  constructor(readonly ref: string) {
    super(`container ${ref} is not running`);
  }
}

/** Docker answered 409 to create: a container with that name already exists. */
export class NameConflictError extends BerthError {
  readonly code = 'NameConflict';
  constructor(readonly dockerName: string, options: { cause?: unknown } = {}) {
    super(`a container named ${dockerName} already exists`, options);
  }
}

/** The image could not be pulled, or the progress stream reported an error. */
export class ImagePullError extends BerthError {
  readonly code = 'PullFailed';
  constructor(readonly image: string, detail: string, options: { cause?: unknown } = {}) {
    super(`pulling ${image} failed: ${detail}`, { ...options, retryable: true });
  }
}

/**
 * A pull attempt was aborted by one of the agent's pull timeouts: no progress line for the
 * inactivity timeout, or not done within the overall timeout. Retryable: a stalled connection or a
 * slow mirror may do better next time.
 */
export class PullTimeoutError extends BerthError {
  readonly code = 'PullTimeout';
  constructor(
    readonly image: string,
    readonly kind: 'inactivity' | 'overall',
    readonly timeoutMs: number,
  ) {
    super(
      kind === 'inactivity'
        ? `pulling ${image} failed: no progress for ${timeoutMs} ms (the inactivity timeout, --image-pull-inactivity-timeout)`
        : `pulling ${image} failed: not done within ${timeoutMs} ms (the overall timeout, --image-pull-timeout)`,
      { retryable: true },
    );
  }
}

/** The image is not present locally (create was attempted without a pull). */
export class ImageNotFoundError extends BerthError {
  readonly code = 'ImageNotFound';
  constructor(readonly image: string, options: { cause?: unknown } = {}) {
    super(`no such image: ${image}`, options);
  }
}

/** Docker refused to remove an image (409): a container was made from it, or several tags name it. */
export class ImageConflictError extends BerthError {
  readonly code = 'ImageConflict';
  constructor(readonly image: string, detail: string, options: { cause?: unknown } = {}) {
    super(`cannot remove image ${image}: ${detail}`, options);
  }
}

/** The Docker daemon could not be reached at all. */
export class DockerUnavailableError extends BerthError {
  readonly code = 'DockerUnavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

/**
 * A remote Docker endpoint refused us: a TLS certificate it or we do not accept, an ssh key it
 * refuses, or an ssh host key that differs from the known one. It never fixes itself, so the
 * agent does not start on it.
 */
export class DockerEndpointRefusedError extends BerthError {
  readonly code = 'DockerEndpointRefused';
  constructor(readonly endpoint: string, detail: string, options: { cause?: unknown } = {}) {
    super(`Docker at ${endpoint} refused the connection: ${detail}`, options);
  }
}

/** A Docker call did not answer within its deadline. */
export class DockerTimeoutError extends BerthError {
  readonly code = 'DockerTimeout';
  constructor(readonly operation: string, readonly timeoutMs: number, options: { cause?: unknown } = {}) {
    super(`docker ${operation} did not answer within ${timeoutMs} ms`, { ...options, retryable: true });
  }
}

/** Any other error answer from Docker. Server errors (5xx) are worth retrying; client errors are not. */
export class DockerApiError extends BerthError {
  readonly code = 'DockerApiError';
  constructor(
    readonly operation: string,
    readonly statusCode: number | undefined,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`docker ${operation} failed${statusCode ? ` (${statusCode})` : ''}: ${detail}`, {
      ...options,
      retryable: statusCode === undefined || statusCode >= 500,
    });
  }
}

/**
 * Docker could not bind a host port the container asks for (another process or container holds
 * it). Not retryable: the same start fails the same way until an operator frees the port.
 */
export class PortConflictError extends BerthError {
  readonly code = 'PortConflict';
  constructor(
    readonly operation: string,
    /** `127.0.0.1:18080/tcp`, or what Docker's message names when it cannot be told apart. */
    readonly port: string,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`host port ${port} is already in use: ${detail}`, { ...options, retryable: false });
  }
}

/**
 * A container names another one (`volumesFrom`, `links`, a `container:` network, PID or IPC mode)
 * that does not exist, or is not running when Docker needs it running. Not retryable: the same
 * call fails the same way until the other container is there and running, which is the engine's
 * ordering to ensure, not a retry's.
 */
export class ContainerReferenceError extends BerthError {
  readonly code = 'ContainerReferenceFailed';
  constructor(readonly operation: string, detail: string, options: { cause?: unknown } = {}) {
    super(`docker ${operation} failed: a container it refers to is missing or not running: ${detail}`, options);
  }
}

/**
 * Docker refused the container's own settings when starting it, in a way no retry changes: a user
 * or group the image does not have, log driver options it cannot use. (Settings Docker refuses at
 * create come back as a 400 DockerApiError, which is not retryable either.)
 */
export class ContainerSettingsError extends BerthError {
  readonly code = 'ContainerSettingsRefused';
  constructor(readonly operation: string, detail: string, options: { cause?: unknown } = {}) {
    super(`docker ${operation} refused the container's settings: ${detail}`, options);
  }
}

/** Docker answered 404 for a volume. */
export class VolumeNotFoundError extends BerthError {
  readonly code = 'VolumeNotFound';
  constructor(readonly volume: string, options: { cause?: unknown } = {}) {
    super(`no such volume: ${volume}`, options);
  }
}

/** The caller aborted a pull (a stop request overtook it). Not retryable: nobody wants it any more. */
export class PullCancelledError extends BerthError {
  readonly code = 'PullCancelled';
  constructor(readonly image: string) {
    super(`pulling ${image} was cancelled`);
  }
}

/**
 * A docker credential helper (`docker-credential-<name> get`) could not give a registry's
 * credentials: not on PATH, failed, timed out, or answered something else than its protocol's JSON.
 * The message names the helper and the image, never what the helper printed on success. Retryable
 * unless the helper is missing: a timeout or a locked keychain may pass.
 */
export class CredentialHelperError extends BerthError {
  readonly code = 'CredentialHelperFailed';
  constructor(
    readonly image: string,
    readonly helper: string,
    detail: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(`pulling ${image} failed: credential helper ${helper} ${detail}`, { retryable: true, ...options });
  }
}

/** The state database could not be read or written. */
export class PersistenceError extends BerthError {
  readonly code = 'PersistenceError';
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options);
  }
}

/** The database was written by a schema this build does not know. */
export class SchemaVersionError extends BerthError {
  readonly code = 'SchemaVersionMismatch';
  constructor(readonly found: number, readonly supported: number) {
    super(
      `the state database has schema version ${found}, but this agent supports up to ${supported}; ` +
        'run a newer agent or restore a backup',
    );
  }
}

/** Bad configuration: a flag or environment variable with a value the agent cannot use. */
export class ConfigError extends BerthError {
  readonly code = 'InvalidConfig';
  constructor(message: string) {
    super(message);
  }
}

/** The engine is not running (still starting, or shutting down); no work is accepted. Retry shortly. */
export class EngineClosedError extends BerthError {
  readonly code = 'EngineNotRunning';
  constructor(phase: 'starting' | 'stopping' = 'stopping') {
    super(`the task engine is ${phase === 'starting' ? 'still starting' : 'shutting down'}`, { retryable: true });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A route's backend did not take a record; the route retries it when `retryable`, with backoff. */
export class RouteDeliveryError extends BerthError {
  readonly code = 'RouteDeliveryFailed';
  constructor(
    readonly route: string,
    message: string,
    options: { cause?: unknown; retryable: boolean },
  ) {
    super(`route ${route}: ${message}`, options);
  }
}

/** No etcd endpoint answered (down, unreachable, no quorum within the deadline). Retry later: the agent keeps running. */
export class EtcdUnavailableError extends BerthError {
  readonly code = 'EtcdUnavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

/** A watch asked for history etcd has compacted away: the watcher must re-list. */
export class EtcdCompactedError extends BerthError {
  readonly code = 'EtcdCompacted';
  constructor(readonly compactRevision: number) {
    super(`etcd has compacted history up to revision ${compactRevision}`);
  }
}
