// Reading dockerode's and Node's errors: which daemon answer a failure was, in Docker's own words.
import { ContainerReferenceError, ContainerSettingsError, PortConflictError, errorMessage } from '../errors.js';

/** Error shapes dockerode and Node's http client produce. */
interface WireError {
  statusCode?: unknown;
  code?: unknown;
  json?: unknown;
  message?: unknown;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Why a TLS or ssh endpoint refused the connection, in words; undefined for any other failure. */
export function endpointRefusalOf(err: unknown): string | undefined {
  const { code, message } = (err ?? {}) as WireError;
  const text = typeof message === 'string' ? message : '';
  if ((err as { level?: unknown } | null)?.level === 'client-authentication') return `the ssh key was refused (${text})`;
  if (/Host denied \(verification failed\)/.test(text)) return 'the ssh host key is not the known one';
  if (typeof code !== 'string') return undefined;
  // Reached, then cut off in the handshake: what a TLS server that refuses our certificate does.
  if (code === 'ECONNRESET' && /before secure TLS connection was established/.test(text)) {
    return `it closed the TLS handshake, so it does not accept our client certificate (${text})`;
  }
  if (TLS_CERT_CODES.has(code)) return `its TLS certificate is not trusted by our CA (${code}: ${text})`;
  if (/^ERR_SSL_/.test(code)) return `the TLS handshake failed, our client certificate is likely not accepted (${code}: ${text})`;
  return undefined;
}

const TLS_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function statusOf(err: unknown): number | undefined {
  const status = (err as WireError | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Docker's own message when it sent one, not dockerode's "(HTTP code 404) no such container - ..." wrapper. */
export function detailOf(err: unknown): string {
  const json = (err as WireError | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  return errorMessage(err);
}

export function isUnreachable(err: unknown): boolean {
  const code = (err as WireError | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return statusOf(err) === undefined && /socket hang up/i.test(errorMessage(err));
}

// Docker's two wordings: its own port allocator ("Bind for 127.0.0.1:18080 failed: port is already
// allocated"), and the userland proxy finding the port held by a host process ("listen tcp4
// 127.0.0.1:18080: bind: address already in use"). "driver failed programming external
// connectivity" alone is not enough: Docker says it for iptables failures too, which are no
// port conflict.
const ALLOCATED = /Bind for (\S+?) failed: port is already allocated/;
const IN_USE = /listen (tcp|udp)[46]? (\S+?): bind: address already in use/;

/** A PortConflictError when Docker's answer says a host port could not be bound. */
export function portConflictOf(operation: string, err: unknown): PortConflictError | undefined {
  if (statusOf(err) === undefined) return undefined;
  const detail = detailOf(err);
  const allocated = ALLOCATED.exec(detail);
  if (allocated) return new PortConflictError(operation, allocated[1]!, detail, { cause: err });
  const inUse = IN_USE.exec(detail);
  if (inUse) return new PortConflictError(operation, `${inUse[2]!}/${inUse[1]!}`, detail, { cause: err });
  return undefined;
}

// Measured on Docker 20.10, where each reference is checked and how Docker words it:
// create: "No such container: X" (400, volumesFrom / pid / ipc), "could not get container for X" (links);
// start: "No such container: X" (404, container: network), "Cannot link to a non running container",
// "cannot join network of a non running container", "container X is not running" (pid),
// "can't join IPC of container X: container X is not running" (ipc). Later Docker words the PID
// case "non running container" too.
const MISSING_AT_CREATE = /^No such container: |could not get container for /;
// Not "non-shareable IPC": the donor runs, but without `ipcMode: shareable`; that is a DockerApiError.
const NOT_RUNNING_AT_START = /non running container|^container \S+ is not running|^can't join IPC of container \S+: container \S+ is not running/i;
const NO_SUCH_CONTAINER = /^No such container: (\S+)/;

/**
 * A ContainerReferenceError when Docker's answer to creating or starting `ref` is about another
 * container it names. A 404 on start names either `ref` itself (then it is ContainerNotFound,
 * undefined here) or the container of a `container:` network mode.
 */
export function containerReferenceOf(
  operation: 'create' | 'start',
  ref: string,
  err: unknown,
): ContainerReferenceError | undefined {
  const status = statusOf(err);
  if (status === undefined) return undefined;
  const detail = detailOf(err);
  if (operation === 'create') {
    return status < 500 && MISSING_AT_CREATE.test(detail) ? new ContainerReferenceError(operation, detail, { cause: err }) : undefined;
  }
  const missing = NO_SUCH_CONTAINER.exec(detail);
  if (status === 404 && missing && missing[1] !== ref) return new ContainerReferenceError(operation, detail, { cause: err });
  return NOT_RUNNING_AT_START.test(detail) ? new ContainerReferenceError(operation, detail, { cause: err }) : undefined;
}

// Start answers these with a 500, as if the daemon had failed, though only new settings help:
// "unable to find user nobody: no matching entries in passwd file", "failed to initialize logging
// driver: invalid size: 'banana'" (measured on Docker 20.10).
const SETTINGS_REFUSED = /unable to find (user|group) .*: no matching entries in (passwd|group) file|failed to initialize logging driver/;

/** A ContainerSettingsError when Docker's 500 to a start is about the container's own settings. */
export function settingsRefusalOf(operation: 'start', err: unknown): ContainerSettingsError | undefined {
  const detail = detailOf(err);
  return statusOf(err) === 500 && SETTINGS_REFUSED.test(detail) ? new ContainerSettingsError(operation, detail, { cause: err }) : undefined;
}
