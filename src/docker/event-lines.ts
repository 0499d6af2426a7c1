import { StringDecoder } from 'node:string_decoder';
import type { DockerEvent, DockerHealth, NetworkEvent } from './docker-client.js';

/**
 * Splits a byte stream into lines. Docker's streaming answers (events, pull progress) are
 * newline-delimited JSON, but the socket cuts chunks anywhere: mid-line, mid-character, or with
 * several lines in one chunk.
 */
export class LineSplitter {
  // A chunk may end inside a multi-byte UTF-8 character; the decoder holds the partial bytes back.
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Complete, non-blank lines (without their terminator) that `chunk` finished. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map(trimLine).filter((line) => line.length > 0);
  }

  /** Whatever the stream left without a final newline. */
  end(): string[] {
    const rest = trimLine(this.pending + this.decoder.end());
    this.pending = '';
    return rest.length > 0 ? [rest] : [];
  }
}

// Also drops the `\r` of CRLF-terminated lines.
function trimLine(line: string): string {
  return line.trim();
}

export async function* ndjsonLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const chunk of source) {
    yield* splitter.push(chunk);
  }
  yield* splitter.end();
}

/**
 * Attributes Docker adds to a container event's Actor next to the container's labels. Docker writes
 * them over same-named labels, so what is left is exactly the labels.
 */
const NON_LABEL_ATTRIBUTES = new Set(['image', 'name', 'exitCode', 'signal', 'execID', 'oldName']);

// `timeNano` is a 19-digit integer: JSON.parse would round it to a double and make it useless as a
// resume point, so it is read from the raw text. Attribute values are always JSON strings, so a
// bare number after `"timeNano":` can only be the top-level field.
const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;

interface RawEvent {
  Type?: unknown;
  Action?: unknown;
  status?: unknown;
  id?: unknown;
  time?: unknown;
  Actor?: { ID?: unknown; Attributes?: unknown };
}

/**
 * One line of GET /events as a DockerEvent, or undefined when the line is not a container event
 * this client can use (not JSON, another object type, no container ID or timestamp).
 */
export function parseEventLine(line: string): DockerEvent | undefined {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  if (raw.Type !== undefined && raw.Type !== 'container') return undefined;

  const dockerId = typeof raw.Actor?.ID === 'string' && raw.Actor.ID ? raw.Actor.ID : raw.id;
  const rawAction = typeof raw.Action === 'string' ? raw.Action : raw.status;
  if (typeof dockerId !== 'string' || !dockerId || typeof rawAction !== 'string' || !rawAction) {
    return undefined;
  }
  const timeNano = TIME_NANO.exec(line)?.[1] ?? (typeof raw.time === 'number' ? `${raw.time}000000000` : undefined);
  if (timeNano === undefined) return undefined;

  const attributes = stringRecord(raw.Actor?.Attributes);
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!NON_LABEL_ATTRIBUTES.has(key)) labels[key] = value;
  }
  // Exec and health events carry a detail after a colon ("exec_start: sh -c ...", "health_status: healthy").
  const colon = rawAction.indexOf(':');
  const action = (colon < 0 ? rawAction : rawAction.slice(0, colon)).trim();
  // Docker runs every health probe as an exec: three events per probe that say nothing new.
  if (action.startsWith('exec_')) return undefined;
  const exitCode = attributes.exitCode !== undefined && /^-?\d+$/.test(attributes.exitCode)
    ? Number(attributes.exitCode)
    : undefined;
  const health = action === 'health_status' && colon >= 0 ? rawAction.slice(colon + 1).trim() : undefined;
  return {
    dockerId,
    action,
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(health !== undefined && HEALTH.has(health) ? { health: health as DockerHealth } : {}),
    labels,
    timeNano,
  };
}

/**
 * One line of GET /events as a NetworkEvent: a `type=network` `connect` or `disconnect`, whose
 * Actor is the network and whose `container` attribute names the container. Anything else is undefined.
 */
export function parseNetworkEventLine(line: string): NetworkEvent | undefined {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || raw.Type !== 'network') return undefined;
  const action = raw.Action;
  if (action !== 'connect' && action !== 'disconnect') return undefined;
  const attributes = stringRecord(raw.Actor?.Attributes);
  const dockerId = attributes.container;
  const network = attributes.name;
  const timeNano = TIME_NANO.exec(line)?.[1] ?? (typeof raw.time === 'number' ? `${raw.time}000000000` : undefined);
  if (!dockerId || !network || timeNano === undefined) return undefined;
  return { dockerId, action, network, timeNano };
}

const HEALTH: ReadonlySet<string> = new Set<DockerHealth>(['starting', 'healthy', 'unhealthy']);

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== 'object') return out;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

/**
 * Docker's `since` wants `seconds.nanoseconds` and replays events at or after it; the DockerClient
 * contract promises events strictly after `sinceNano`, hence the one nanosecond added.
 */
export function dockerSinceAfter(sinceNano: string): string {
  if (!/^\d+$/.test(sinceNano)) {
    throw new RangeError(`sinceNano must be a decimal nanosecond timestamp, got ${JSON.stringify(sinceNano)}`);
  }
  const next = BigInt(sinceNano) + 1n;
  const seconds = next / 1_000_000_000n;
  const nanos = next % 1_000_000_000n;
  // Docker scales the fraction by its digit count, so it must be exactly nine digits.
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}
