import { METHODS } from 'node:http';
import { parseTaskInput } from '../../src/api/schema.js';
import { MAX_BODY_BYTES } from '../../src/control/http.js';
import { ValidationError } from '../../src/errors.js';
import { dribble, requestHead, type Part, type RawScript } from './raw-http.js';

/**
 * Generates hostile requests for the control socket from a seed: every request is wrong by
 * construction (never a valid task), and each carries the answer it must get, so the fuzz test can
 * be exact rather than merely "some 4xx".
 */

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

// ---------------------------------------------------------------------------------------------
// What each request must get

export type Category =
  | 'body-mutation'
  | 'deep-nesting'
  | 'malformed-json'
  | 'content-type'
  | 'method'
  | 'path'
  | 'query'
  | 'truncated-body'
  | 'oversize-body'
  | 'oversize-headers'
  | 'http-garbage'
  | 'slow-headers'
  | 'slow-body';

export interface Expectation {
  /** The statuses a correct agent may answer with (all 4xx). */
  readonly statuses: readonly number[];
  /** The JSON error code, when the answer must carry a specific one. */
  readonly code?: string;
  /**
   * The server may close without an answer: only where closing is the deliberate outcome (a
   * refused upload the client was still writing into, a cut-off slow client).
   */
  readonly mayClose?: boolean;
  /** The client hangs up itself, so there is no answer to judge; only the agent's health is. */
  readonly clientHangsUp?: boolean;
}

export interface HostileCase {
  readonly category: Category;
  /** Which generator made it (the mutation kind, the template…), for counts and failure messages. */
  readonly kind: string;
  readonly script: RawScript;
  readonly deadlineMs: number;
  readonly expect: Expectation;
  /** The POST body, when the case is about the body. */
  readonly body?: Buffer;
  /** What the agent's own schema, run here, made of that body: the proof the generator made no valid task. */
  readonly local?: 'malformed' | 'invalid' | 'valid';
}

export interface Limits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly timeoutCheckIntervalMs: number;
}

/** How long past a server-side timeout an answer may take on a busy 2-core machine before it counts as a hang. */
const TIMEOUT_SLACK_MS = 3_000;
const DEADLINE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Valid tasks, the raw material of mutations

const IMAGES = [
  'busybox',
  'busybox:1.36',
  'registry.test:5000/berth/busybox:latest',
  'localhost/a/b/c:tag',
  '[::1]:5000/x/y:1.0',
  'a.b-c_d/e__f:v1.2-3',
  `ghcr.io/org/app@sha256:${'ab12'.repeat(16)}`,
  'docker.io/library/nginx:1.25-alpine',
];
const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-';
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function validTask(rng: Rng, arn: string): Record<string, unknown> {
  const containers = Array.from({ length: rng.int(1, 3) }, (_, i) => validContainer(rng, `c${i}${rng.chars(NAME_ALPHABET, rng.int(0, 8))}`, i));
  return {
    arn,
    family: `fam-${rng.chars(ALNUM, rng.int(1, 10))}`,
    version: rng.chance(0.5) ? rng.int(0, 1000) : `v${rng.chars(ALNUM, 3)}.1`,
    ...(rng.chance(0.3) ? { desiredStatus: rng.pick(['RUNNING', 'STOPPED']) } : {}),
    containers,
  };
}

function validContainer(rng: Rng, name: string, index: number): Record<string, unknown> {
  const c: Record<string, unknown> = { name, image: rng.pick(IMAGES) };
  if (rng.chance(0.5)) c.command = ['sleep', String(rng.int(1, 1000))];
  if (rng.chance(0.3)) c.entryPoint = ['/bin/sh', '-c'];
  if (rng.chance(0.5)) c.environment = { GREETING: 'hello', [`K_${rng.chars(ALNUM, 4)}`]: rng.chars(ALNUM, 8) };
  if (rng.chance(0.3)) c.labels = { team: rng.chars(ALNUM, 5) };
  if (rng.chance(0.3)) c.essential = rng.chance(0.5);
  if (rng.chance(0.3)) c.stopTimeout = rng.int(0, 3600);
  if (rng.chance(0.6)) {
    c.portMappings = [
      {
        containerPort: rng.int(1, 65535),
        ...(rng.chance(0.5) ? { hostPort: 20_000 + index * 100 + rng.int(0, 99) } : {}),
        ...(rng.chance(0.3) ? { protocol: rng.pick(['tcp', 'udp']) } : {}),
        ...(rng.chance(0.3) ? { hostIp: rng.pick(['127.0.0.1', '::1', '0.0.0.0']) } : {}),
      },
    ];
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Encoding: raw JSON text and raw bytes smuggled through JSON.stringify

/**
 * Raw JSON text (`1e309`, `-0`, 10,000 nested arrays…) cannot go through JSON.stringify, so a
 * short numbered marker stands in for it and `encode` swaps the text in afterwards.
 */
const rawTexts = new Map<number, string>();
let nextRaw = 0;
const raw = (text: string): string => {
  const id = nextRaw++;
  rawTexts.set(id, text);
  return `\u0001RAW${id}\u0001`;
};
/** Bytes (e.g. invalid UTF-8) written verbatim inside a JSON string. */
const bytes = (hex: string): string => `\u0002${hex}\u0002`;

export function encode(value: unknown): Buffer {
  const text = JSON.stringify(value).replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, id: string) => rawTexts.get(Number(id))!);
  // The tables' constants stay; what this case made is dropped.
  for (const id of rawTexts.keys()) if (id >= firstTransientRaw) rawTexts.delete(id);
  const pieces = text.split(/\\u0002([0-9a-f]+)\\u0002/);
  return Buffer.concat(pieces.map((piece, i) => (i % 2 === 1 ? Buffer.from(piece, 'hex') : Buffer.from(piece, 'utf8'))));
}

/** Sets any key, `__proto__` included, as an own enumerable property (so JSON.stringify writes it). */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A container of the task to mutate. Once an earlier mutation has broken `containers` there may be
 * none: the mutation then lands on a detached object, harmlessly, as the body is invalid already.
 */
function someContainer(rng: Rng, task: Obj): Obj {
  const objects = Array.isArray(task.containers) ? task.containers.filter(isObj) : [];
  return objects.length > 0 ? rng.pick(objects) : {};
}

/** A port mapping to mutate; one is added where there are none, never over a broken list. */
function somePortMapping(rng: Rng, task: Obj): Obj {
  const c = someContainer(rng, task);
  if (c.portMappings === undefined) c.portMappings = [{ containerPort: 8080 }];
  const objects = Array.isArray(c.portMappings) ? c.portMappings.filter(isObj) : [];
  return objects.length > 0 ? rng.pick(objects) : {};
}

// ---------------------------------------------------------------------------------------------
// Mutations: each one alone makes a valid task invalid, and none undoes another

/** Over the field's limit: usually by up to a few times, sometimes by hundreds of KB. */
const huge = (rng: Rng, min: number, max: number, alphabet = 'a'): string =>
  alphabet.repeat(rng.chance(0.8) ? rng.int(min, Math.min(max, min * 4)) : rng.int(min, max));

/** Values that are wrong for the field whatever else the task holds. */
const WRONG: Record<string, readonly unknown[]> = {
  arn: [42, null, true, [], {}, '', 'has space', 'ü', 'arn\ttab', ['arn:x'], 'arn:x?y', 'arn:x#y'],
  family: [42, null, false, [], {}, '', 'a.b', 'a:b', 'a/b', 'fam ily', 'ñ'],
  version: [-1, 1.5, true, null, [], {}, '', 'v 1', '1/2', 'v+1', 'é', raw('-1e309'), raw('2e-7')],
  desiredStatus: ['running', 'PENDING', 'NONE', 'PULLED', '', 1, null, true, [], 'STOPPED '],
  containers: [{}, 'x', null, 0, [1], [null], [[]], ['c'], true],
  name: ['', '-a', '.a', '_a', 'a b', 'a/b', 'a:b', 1, null, 'ü', 'a\nb', [], {}],
  image: ['', 'UPPER', 'a:b:c', '-a', 'a//b', 'a/', '/a', 'a@sha256:abc', 'a:', ':tag', 'a b', 'a..b', 'reg:port/x', 'a:tag@', 1, null, [], 'ü', 'a\nb', 'http://x/y'],
  command: ['sleep 1', [1], [null], [[]], {}, true, 1, [{}]],
  entryPoint: ['/bin/sh', [1], [null], [[]], {}, false],
  environment: [[], 'A=B', { A: 1 }, { A: null }, { A: true }, { A: {} }, { A: [] }, null, 1],
  essential: ['true', 1, 0, null, [], 'yes', {}],
  labels: [[], { a: 1 }, { a: null }, { a: true }, { a: {} }, 'x', null, { '': 'x' }],
  // Digits as a string ('30') are a valid whole number, as ECS files write them; '3.5' and '30s' are not.
  stopTimeout: [-1, 3601, 1.5, '3.5', '30s', null, true, [], raw('1e309'), raw('-1e309'), 'NaN', 1e4],
  portMappings: [{}, 'x', [1], [null], [[]], [{}], null, true],
  containerPort: [0, 65536, -1, 1.5, '80x', '0x50', null, true, [], raw('1e309'), raw('-0'), raw('1e-400'), 'NaN', 1e6],
  hostPort: [0, 65536, -1, '70000', null, raw('-0'), raw('1e309'), 70_000, 1.5, 'NaN'],
  protocol: ['TCP', 'sctp', '', 1, null, 'tcp ', []],
  hostIp: ['localhost', '256.1.1.1', '', '1.2.3', '::g', 1, null, '127.0.0.1 ', '0x7f.0.0.1', '[::1]'],
};

/** Markers made from here on belong to one case each. */
const firstTransientRaw = nextRaw;

const TOP_FIELDS = ['arn', 'family', 'version', 'desiredStatus', 'containers'] as const;
const CONTAINER_FIELDS = ['name', 'image', 'command', 'entryPoint', 'environment', 'essential', 'labels', 'stopTimeout', 'portMappings'] as const;
const PORT_FIELDS = ['containerPort', 'hostPort', 'protocol', 'hostIp'] as const;

/** Fields where any character outside a narrow class is an error. */
type Restricted = 'arn' | 'family' | 'version' | 'name' | 'image' | 'envKey' | 'hostIp' | 'protocol' | 'desiredStatus';
const RESTRICTED: readonly Restricted[] = ['arn', 'family', 'version', 'name', 'image', 'envKey', 'hostIp', 'protocol', 'desiredStatus'];

/** Puts `inject(validValue)` into a restricted string field; the result can never match its pattern. */
function injectIntoRestricted(rng: Rng, task: Obj, inject: (valid: string) => string): string {
  const field = rng.pick(RESTRICTED);
  const c = someContainer(rng, task);
  switch (field) {
    case 'arn':
    case 'family':
      task[field] = inject(String(task[field]));
      break;
    case 'version':
      task.version = inject(String(task.version));
      break;
    case 'desiredStatus':
      task.desiredStatus = inject('RUNNING');
      break;
    case 'name':
    case 'image':
      c[field] = inject(String(c[field]));
      break;
    case 'envKey': {
      const env = { ...((c.environment as Obj | undefined) ?? {}) };
      env[inject('KEY')] = 'value';
      c.environment = env;
      break;
    }
    case 'hostIp':
    case 'protocol': {
      const pm = somePortMapping(rng, task);
      pm[field] = inject(field === 'hostIp' ? '127.0.0.1' : 'tcp');
      break;
    }
  }
  return field;
}

const UNKNOWN_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'ARN', 'desired_status', 'Containers', '', ' arn', 'arn\u0000', 'x'.repeat(1000), '$where', 'id'];
const POLLUTERS: readonly unknown[] = [{ polluted: true }, { prototype: { polluted: true } }, null, 'x', 1, [], { __proto__x: 1 }];

interface Mutation {
  readonly kind: string;
  /** Mutates `task` in place, or returns a whole new body. */
  apply(rng: Rng, task: Obj, ctx: { seedArn: string }): void | { replace: unknown };
}

const MUTATIONS: readonly Mutation[] = [
  {
    kind: 'wrong-type',
    apply(rng, task) {
      const level = rng.pick(['top', 'container', 'port'] as const);
      if (level === 'top') {
        const field = rng.pick(TOP_FIELDS);
        task[field] = rng.pick(WRONG[field]!);
      } else if (level === 'container') {
        const field = rng.pick(CONTAINER_FIELDS);
        someContainer(rng, task)[field] = rng.pick(WRONG[field]!);
      } else {
        const field = rng.pick(PORT_FIELDS);
        somePortMapping(rng, task)[field] = rng.pick(WRONG[field]!);
      }
    },
  },
  {
    kind: 'missing-field',
    apply(rng, task) {
      const where = rng.pick(['arn', 'family', 'version', 'containers', 'name', 'image', 'containerPort'] as const);
      if (where === 'name' || where === 'image') delete someContainer(rng, task)[where];
      else if (where === 'containerPort') delete somePortMapping(rng, task).containerPort;
      else delete task[where];
    },
  },
  {
    kind: 'unknown-field',
    apply(rng, task) {
      const target = rng.pick([task, someContainer(rng, task), somePortMapping(rng, task)]);
      const key = rng.chance(0.5) ? rng.pick(UNKNOWN_KEYS) : `x${rng.chars(NAME_ALPHABET, rng.int(1, 12))}`;
      setKey(target, key, rng.pick([1, 'x', null, true, [], {}, { nested: { deep: [1, 2, 3] } }]));
    },
  },
  {
    kind: 'prototype-key',
    apply(rng, task) {
      const target = rng.pick([task, someContainer(rng, task), somePortMapping(rng, task)]);
      setKey(target, rng.pick(['__proto__', 'constructor', 'prototype']), rng.pick(POLLUTERS));
    },
  },
  {
    kind: 'huge-string',
    apply(rng, task) {
      const c = someContainer(rng, task);
      switch (rng.int(0, 9)) {
        case 0:
          task.arn = huge(rng, 256, 300_000);
          break;
        case 1:
          task.family = huge(rng, 256, 300_000, 'f');
          break;
        case 2:
          task.version = huge(rng, 129, 100_000, 'v');
          break;
        case 3:
          c.name = huge(rng, 256, 300_000, 'n');
          break;
        case 4:
          c.image = `${huge(rng, 256, 300_000, 'i')}:latest`;
          break;
        case 5:
          c.command = ['sh', huge(rng, 32 * 1024 + 1, 300_000, 'c')];
          break;
        case 6:
          c.environment = { BIG: huge(rng, 32 * 1024 + 1, 300_000, 'e') };
          break;
        case 7:
          c.labels = { big: huge(rng, 4097, 300_000, 'l') };
          break;
        case 8:
          c.labels = { [huge(rng, 256, 100_000, 'k')]: 'v' };
          break;
        default:
          somePortMapping(rng, task).hostIp = huge(rng, 40, 100_000, '1');
      }
    },
  },
  {
    kind: 'invalid-utf8',
    apply(rng, task) {
      const hex = rng.pick(['ff', 'fe', 'c0af', 'e080', 'ed a0 80', 'f8888080', 'c3', 'e282', '80', 'fffe']).replace(/ /g, '');
      injectIntoRestricted(rng, task, (v) => `${v.slice(0, 1)}${bytes(hex)}${v.slice(1)}`);
    },
  },
  {
    kind: 'nul-byte',
    apply(rng, task) {
      injectIntoRestricted(rng, task, (v) => (rng.chance(0.5) ? `${v}\u0000` : `\u0000${v}`));
    },
  },
  {
    kind: 'unicode',
    apply(rng, task) {
      // Lone surrogates, look-alikes, direction overrides: valid JSON, never a valid identifier here.
      const odd = rng.pick(['\ud800', '\udfff', '\u202e', '\uff41', '\u0430', '\u200b', '\ufeff', '\u{1f600}']);
      injectIntoRestricted(rng, task, (v) => `${v}${odd}`);
    },
  },
  {
    kind: 'number-edge',
    apply(rng, task) {
      const where = rng.int(0, 3);
      if (where === 0) somePortMapping(rng, task).containerPort = rng.pick([raw('1e309'), raw('-0'), raw('-0.0'), raw('1e-400'), 'NaN', raw('65535.5'), raw('9007199254740993')]);
      else if (where === 1) somePortMapping(rng, task).hostPort = rng.pick([raw('1e309'), raw('-0'), raw('0e0'), 'NaN', 'Infinity', raw('-1e-400')]);
      else if (where === 2) someContainer(rng, task).stopTimeout = rng.pick([raw('1e309'), raw('-1e309'), 'NaN', raw('3600.5'), raw('36e2000')]);
      else task.version = rng.pick([raw('1e309'), raw('-1e309'), raw('0.5'), raw('-1')]);
    },
  },
  {
    kind: 'port-range',
    apply(rng, task) {
      somePortMapping(rng, task)[rng.pick(['containerPort', 'hostPort'])] = rng.pick([0, 65536, -1, 70_000, 100_000, -65535]);
    },
  },
  {
    kind: 'image-ref',
    apply(rng, task) {
      someContainer(rng, task).image = rng.pick(WRONG.image!.filter((v) => typeof v === 'string')) as string;
    },
  },
  {
    kind: 'env-key',
    apply(rng, task) {
      const c = someContainer(rng, task);
      c.environment = { ...((c.environment as Obj | undefined) ?? {}), [rng.pick(['1ABC', '-AB', 'A B', '', 'A=B', 'Ä', '.AB', 'A\u0000', '$A', 'a\nb', '9'])]: 'x' };
    },
  },
  {
    kind: 'reserved-label',
    apply(rng, task) {
      someContainer(rng, task).labels = { [`berth.${rng.pick(['task-arn', 'agent-id', 'x', ''])}`]: 'spoofed' };
    },
  },
  {
    kind: 'duplicates',
    apply(rng, task) {
      if (rng.chance(0.5)) {
        if (!Array.isArray(task.containers)) return;
        task.containers.push({ ...someContainer(rng, task), portMappings: [] });
      } else {
        const mapping = { containerPort: 80, hostPort: 18_080, protocol: 'tcp', hostIp: '127.0.0.1' };
        const c = someContainer(rng, task);
        const others = Array.isArray(c.portMappings) ? c.portMappings.filter((m) => !isObj(m) || m.hostPort === undefined) : [];
        c.portMappings = [...others, mapping, { ...mapping, containerPort: 81 }];
      }
    },
  },
  {
    kind: 'container-count',
    apply(rng, task) {
      const one = someContainer(rng, task);
      task.containers = rng.chance(0.3) ? [] : Array.from({ length: rng.int(11, 40) }, (_, i) => ({ ...one, name: `c${i}`, portMappings: [] }));
    },
  },
  {
    kind: 'list-limits',
    apply(rng, task) {
      const c = someContainer(rng, task);
      const which = rng.int(0, 2);
      if (which === 0) c.command = Array.from({ length: rng.int(257, 2000) }, () => 'x');
      else if (which === 1) c.entryPoint = Array.from({ length: rng.int(257, 2000) }, () => 'y');
      else c.portMappings = Array.from({ length: rng.int(65, 300) }, (_, i) => ({ containerPort: 1 + i }));
    },
  },
];

/** Whole bodies that are not a task at all, or a desired-status update gone wrong. */
const REPLACEMENTS: readonly Mutation[] = [
  {
    kind: 'structure',
    apply(rng, task) {
      return { replace: rng.pick<unknown>([[], null, 0, 'task', true, {}, [task], { task }, { ...task, containers: undefined }, [[task]], -0]) };
    },
  },
  {
    kind: 'desired-status-update',
    apply(rng, _task, { seedArn }) {
      return {
        replace: rng.pick<unknown>([
          { arn: seedArn, desiredStatus: 'stopped' },
          { arn: seedArn, desiredStatus: null },
          { arn: seedArn, desiredStatus: 'PENDING' },
          { arn: seedArn, desiredStatus: ['STOPPED'] },
          { arn: 'bad arn', desiredStatus: 'STOPPED' },
          { arn: '', desiredStatus: 'STOPPED' },
          { desiredStatus: 'STOPPED' },
          { arn: seedArn },
          { arn: seedArn, desiredStatus: 'STOPPED', force: true },
          { arn: [seedArn], desiredStatus: 'STOPPED' },
          { arn: `${seedArn}\u0000`, desiredStatus: 'STOPPED' },
        ]),
      };
    },
  },
];

/** A mutated task body (1-3 mutations, or a whole-body replacement) and the mutation kinds used. */
export function mutatedBody(rng: Rng, seedArn: string, index: number): { body: Buffer; kind: string } {
  const task = validTask(rng, rng.chance(0.2) ? seedArn : `arn:fuzz:task/${index}`);
  if (rng.chance(0.08)) {
    const m = rng.pick(REPLACEMENTS);
    const out = m.apply(rng, task, { seedArn });
    return { body: encode(out ? out.replace : task), kind: m.kind };
  }
  const kinds: string[] = [];
  for (let i = rng.int(1, 3); i > 0; i--) {
    const m = rng.pick(MUTATIONS);
    m.apply(rng, task, { seedArn });
    kinds.push(m.kind);
  }
  return { body: encode(task), kind: kinds[0]! };
}

/** 10,000+ levels of nesting somewhere a string, an object or a flat array belongs. */
export function deeplyNestedBody(rng: Rng, index: number): { body: Buffer; kind: string } {
  const depth = rng.int(10_000, 20_000);
  const arrays = (): string => raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  const objects = (): string => raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  const deep = rng.chance(0.5) ? arrays : objects;
  const task = validTask(rng, `arn:fuzz:deep/${index}`);
  const c = someContainer(rng, task);
  const where = rng.pick(['body', 'arn', 'family', 'containers', 'container', 'command', 'environment', 'env-value', 'labels', 'portMappings', 'unknown'] as const);
  switch (where) {
    case 'body':
      return { body: encode(deep()), kind: 'body' };
    case 'arn':
    case 'family':
    case 'containers':
      task[where] = deep();
      break;
    case 'container':
      (task.containers as unknown[])[0] = deep();
      break;
    case 'command':
      c.command = [deep()];
      break;
    case 'environment':
    case 'labels':
      c[where] = deep();
      break;
    case 'env-value':
      c.environment = { DEEP: deep() };
      break;
    case 'portMappings':
      c.portMappings = [deep()];
      break;
    case 'unknown':
      task.extra = deep();
      break;
  }
  return { body: encode(task), kind: where };
}

/** JSON that does not parse: cut short, corrupted between tokens, JavaScript-isms, stray bytes. */
export function malformedBody(rng: Rng, seedArn: string, index: number): { body: Buffer; kind: string } {
  const text = JSON.stringify(validTask(rng, rng.chance(0.2) ? seedArn : `arn:fuzz:bad-json/${index}`));
  const kind = rng.pick([
    'truncated',
    'structural',
    'trailing',
    'leading',
    'single-quotes',
    'trailing-comma',
    'comment',
    'unquoted-keys',
    'js-literal',
    'number-syntax',
    'raw-control-char',
    'raw-bytes-outside-string',
    'empty',
  ] as const);
  switch (kind) {
    case 'truncated':
      return { body: Buffer.from(text.slice(0, rng.int(1, text.length - 1))), kind };
    case 'structural': {
      const positions = structuralPositions(text);
      const at = rng.pick(positions);
      return { body: Buffer.from(`${text.slice(0, at)}${rng.pick([';', '=', '#', '|', '\\'])}${text.slice(at + 1)}`), kind };
    }
    case 'trailing':
      return { body: Buffer.from(`${text}${rng.pick(['x', '}', ',', ',{}', text, ']', '\u0000', 'null'])}`), kind };
    case 'leading':
      return { body: Buffer.from(`${rng.pick(['x', '\ufeff', ')]}\'\n', '[', 'while(1);', '\u0000'])}${text}`), kind };
    case 'single-quotes':
      return { body: Buffer.from(text.replace(/"/g, "'")), kind };
    case 'trailing-comma':
      return { body: Buffer.from(text.replace(/}$/, ',}')), kind };
    case 'comment':
      return { body: Buffer.from(rng.chance(0.5) ? `/* task */${text}` : text.replace('{', '{// c\n')), kind };
    case 'unquoted-keys':
      return { body: Buffer.from(text.replace(/"(\w+)":/g, '$1:')), kind };
    case 'js-literal':
      return { body: Buffer.from(text.replace(/}$/, `,"x":${rng.pick(['NaN', 'Infinity', '-Infinity', 'undefined', 'new Date()', '() => 1'])}}`)), kind };
    case 'number-syntax':
      return { body: Buffer.from(text.replace(/}$/, `,"x":${rng.pick(['0x10', '010', '+1', '.5', '1.', '1e', '- 1', '1_000', '٣'])}}`)), kind };
    case 'raw-control-char': {
      const ch = String.fromCharCode(rng.pick([0, 1, 8, 9, 10, 13, 27, 31]));
      return { body: Buffer.from(text.replace('"arn":"', `"arn":"${ch}`)), kind };
    }
    case 'raw-bytes-outside-string': {
      const junk = Buffer.from(rng.pick(['ff', 'c0af', 'fe', '80', 'efbfbd', 'e2808b']), 'hex');
      const at = text.indexOf(',') + 1;
      return { body: Buffer.concat([Buffer.from(text.slice(0, at)), junk, Buffer.from(text.slice(at))]), kind };
    }
    case 'empty':
      return { body: Buffer.from(rng.pick(['', ' ', '\n', '\t\r\n '])), kind };
  }
}

/** Indexes of `{}[]:,` outside strings: replacing one of them always breaks the grammar. */
function structuralPositions(text: string): number[] {
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if ('{}[]:,'.includes(ch)) out.push(i);
  }
  return out;
}

/** What the agent must answer for a body, decided here the same way the agent decides it. */
export function bodyVerdict(body: Buffer): { status: number; code: string } | { valid: true } {
  if (body.length > MAX_BODY_BYTES) return { status: 413, code: 'PayloadTooLarge' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, code: 'MalformedJson' };
  }
  try {
    parseTaskInput(parsed);
  } catch (error) {
    if (error instanceof ValidationError) return { status: 400, code: 'InvalidInput' };
    throw error;
  }
  return { valid: true };
}

// ---------------------------------------------------------------------------------------------
// Requests

const ACCEPTED_JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'Application/Json;charset=latin1'];

/** A POST of `body` to /v1/tasks, framed by content-length or chunked, in one or several writes. */
function postBody(rng: Rng, body: Buffer, contentType: string | null = rng.pick(ACCEPTED_JSON_TYPES), target = '/v1/tasks', method = 'POST'): Part[] {
  const headers: [string, string][] = [['host', 'agent']];
  if (contentType !== null) headers.push(['content-type', contentType]);
  if (rng.chance(0.3)) headers.push(['connection', 'close']);
  const chunked = rng.chance(0.2);
  headers.push(chunked ? ['transfer-encoding', 'chunked'] : ['content-length', String(body.length)]);
  const head = requestHead(method, target, headers);
  if (!chunked) return rng.chance(0.3) ? [head, ...split(rng, body)] : [Buffer.concat([Buffer.from(head), body])];
  const parts: Part[] = [head];
  for (const piece of split(rng, body)) if (piece.length > 0) parts.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n');
  parts.push('0\r\n\r\n');
  return parts;
}

function split(rng: Rng, body: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const size = rng.int(1, Math.max(1, Math.ceil(body.length / rng.int(1, 4))));
    pieces.push(body.subarray(at, at + size));
    at += size;
  }
  return pieces.length > 0 ? pieces : [body];
}

const get = (target: string, extra: [string, string][] = []): string => requestHead('GET', target, [['host', 'agent'], ...extra]);

function bodyCase(category: Category, rng: Rng, made: { body: Buffer; kind: string }): HostileCase {
  const verdict = bodyVerdict(made.body);
  // A valid body here is a generator bug; the test counts and fails on these.
  const expect: Expectation = 'valid' in verdict ? { statuses: [] } : { statuses: [verdict.status], code: verdict.code };
  const local = 'valid' in verdict ? 'valid' : verdict.code === 'MalformedJson' ? 'malformed' : 'invalid';
  return { category, kind: made.kind, script: { parts: postBody(rng, made.body) }, deadlineMs: DEADLINE_MS, expect, body: made.body, local };
}

const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/v1/tasks': ['GET', 'POST'],
  '/v1/events': ['GET'],
  '/v1/progress': ['GET'],
  '/v1/metadata': ['GET'],
  '/v1/health': ['GET'],
  '/metrics': ['GET'],
};

/** `null`: no content-type header at all. */
const BAD_CONTENT_TYPES: readonly (string | null)[] = [
  null,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonp',
  'application/json5',
  'application/ld+json',
  'application/problem+json',
  'text/json',
  'json',
  'application/json,text/plain',
  'application/ json',
  'application\\json',
  'application/json-seq',
  '*/*',
  'application/*',
  'text/html; charset=utf-8',
];

export interface Context {
  readonly seedArn: string;
  /** 64 hex characters no container has. */
  readonly unknownDockerId: string;
  readonly limits: Limits;
}

type Generator = (rng: Rng, i: number, ctx: Context) => HostileCase;

const GENERATORS: Readonly<Record<Category, Generator>> = {
  'body-mutation': (rng, i, ctx) => bodyCase('body-mutation', rng, mutatedBody(rng, ctx.seedArn, i)),
  'deep-nesting': (rng, i) => bodyCase('deep-nesting', rng, deeplyNestedBody(rng, i)),
  'malformed-json': (rng, i, ctx) => bodyCase('malformed-json', rng, malformedBody(rng, ctx.seedArn, i)),

  'content-type': (rng, i) => {
    // A VALID task: if the type check ever let it through, the task would be created and the
    // database comparison would catch it.
    const body = encode(validTask(rng, `arn:fuzz:content-type/${i}`));
    const type = rng.pick(BAD_CONTENT_TYPES);
    return {
      category: 'content-type',
      kind: type === null ? '(none)' : type || '(empty)',
      script: { parts: postBody(rng, body, type) },
      deadlineMs: DEADLINE_MS,
      expect: { statuses: [415], code: 'UnsupportedMediaType' },
    };
  },

  method: (rng, i) => {
    const path = rng.pick(Object.keys(ROUTES));
    const method = rng.pick(METHODS.filter((m) => !ROUTES[path]!.includes(m)));
    const withBody = rng.chance(0.4);
    const parts =
      method === 'CONNECT'
        ? [requestHead('CONNECT', rng.pick(['agent:80', path]), [['host', 'agent']])]
        : withBody
          ? postBody(rng, encode(validTask(rng, `arn:fuzz:method/${i}`)), 'application/json', path, method)
          : [get(path).replace(/^GET/, method)];
    return {
      category: 'method',
      kind: method,
      script: { parts, head: method === 'HEAD' },
      deadlineMs: DEADLINE_MS,
      expect: { statuses: [405], ...(method === 'HEAD' ? {} : { code: 'MethodNotAllowed' }) },
    };
  },

  path: (rng) => {
    const fixed: [string, number, string][] = [
      ['/', 404, 'NotFound'],
      ['/v1', 404, 'NotFound'],
      ['/v1/', 404, 'NotFound'],
      ['/v2/tasks', 404, 'NotFound'],
      ['/v1/tasks/', 404, 'NotFound'],
      ['/v1/tasks/arn:x', 404, 'NotFound'],
      ['/V1/TASKS', 404, 'NotFound'],
      ['/v1//tasks', 404, 'NotFound'],
      ['/v1/tasks%00', 404, 'NotFound'],
      ['/v1/%74asks', 404, 'NotFound'],
      ['/%2e%2e/%2e%2e/etc/passwd', 404, 'NotFound'],
      ['/../../etc/passwd', 404, 'NotFound'],
      ['/v1/tasks;x', 404, 'NotFound'],
      ['*', 404, 'NotFound'],
      ['http://agent/v1/nope', 404, 'NotFound'],
      [`/${'a'.repeat(5000)}`, 404, 'NotFound'],
      ['//', 400, 'InvalidRequestTarget'],
      ['//:/', 400, 'InvalidRequestTarget'],
      ['http://[', 400, 'InvalidRequestTarget'],
      ['http://agent:99999/v1/health', 400, 'InvalidRequestTarget'],
      ['http://[::1/v1/health', 400, 'InvalidRequestTarget'],
      ['/v1/tasks\u0000', 400, 'BadRequest'],
      ['/v1/ta sks', 400, 'BadRequest'],
      ['/v1/tasks\u007f', 400, 'BadRequest'],
      ['/v1/tásks', 400, 'BadRequest'],
    ];
    if (rng.chance(0.5)) {
      const [target, status, code] = rng.pick(fixed);
      return {
        category: 'path',
        kind: 'fixed',
        script: { parts: [Buffer.from(get(target), 'latin1')] },
        deadlineMs: DEADLINE_MS,
        expect: { statuses: [status], code },
      };
    }
    // Random segments of legal path characters that, once normalized, name no route.
    for (;;) {
      const segments = Array.from({ length: rng.int(1, 5) }, () => rng.chars("abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%", rng.int(0, 12)));
      const target = `/${segments.join('/')}`;
      let pathname: string | undefined;
      try {
        pathname = new URL(target, 'http://agent').pathname;
      } catch {
        // `//host…` with a host URL refuses: the agent must say so, not throw.
      }
      if (pathname !== undefined && pathname in ROUTES) continue;
      return {
        category: 'path',
        kind: pathname === undefined ? 'random-unparsable' : 'random',
        script: { parts: rng.chance(0.3) ? postBody(rng, encode({ x: 1 }), 'application/json', target) : [get(target)] },
        deadlineMs: DEADLINE_MS,
        expect: pathname === undefined ? { statuses: [400], code: 'InvalidRequestTarget' } : { statuses: [404], code: 'NotFound' },
      };
    }
  },

  query: (rng, _i, ctx) => {
    const badInt = ['-1', '1e999', '1e3', '1.5', 'abc', '', '%201', '0x10', '%2B1', '%EF%BC%91', '%ZZ', '%00', '9'.repeat(30), 'NaN', 'Infinity', '1%00', '1,2', '%5B1%5D', '1%20', "1'--"];
    const templates: [string, () => string, number, string, [string, string][]?][] = [
      ['events-after', () => `/v1/events?after=${rng.pick(badInt)}`, 400, 'InvalidQuery'],
      ['events-wait', () => `/v1/events?wait=${rng.pick([...badInt, '301', '100000'])}`, 400, 'InvalidQuery'],
      ['events-limit', () => `/v1/events?limit=${rng.pick([...badInt, '0', '5001'])}`, 400, 'InvalidQuery'],
      ['events-repeated', () => `/v1/events?after=${rng.pick(badInt)}&after=1`, 400, 'InvalidQuery'],
      ['events-unknown', () => `/v1/events?${rng.pick(['foo=1', 'AFTER=1', 'after[]=1', 'after%00=1', '%ZZ=1', '%FF%FE=1', 'after.x=1', '=1', '&&&=', 'wait=1&x'])}`, 400, 'InvalidQuery'],
      ['events-ahead', () => `/v1/events?after=${rng.int(1_000_000, 9_000_000_000)}`, 410, 'CursorAhead'],
      ['events-stream-params', () => `/v1/events?${rng.pick(['wait=1', 'limit=5', 'after=-1', 'after=x'])}`, 400, 'InvalidQuery', [['accept', 'application/x-ndjson']]],
      ['tasks-both', () => `/v1/tasks?taskarn=${encodeURIComponent(ctx.seedArn)}&dockerid=${ctx.unknownDockerId}`, 400, 'InvalidQuery'],
      ['tasks-status', () => `/v1/tasks?status=${rng.pick(['running', 'BOGUS', '', 'RUNNING%00', 'RUNNING,STOPPED'])}`, 400, 'InvalidQuery'],
      ['tasks-dockerid', () => `/v1/tasks?dockerid=${rng.pick(['XYZ', 'abc', '', 'ABCDEF012345', `${'a'.repeat(65)}`, '%00'.repeat(12), 'g'.repeat(12)])}`, 400, 'InvalidQuery'],
      ['tasks-mixed', () => `/v1/tasks?taskarn=${encodeURIComponent(ctx.seedArn)}&${rng.pick(['status=RUNNING', 'family=x'])}`, 400, 'InvalidQuery'],
      ['tasks-unknown', () => `/v1/tasks?${rng.pick(['arn=x', 'TASKARN=x', 'taskArn=x', 'x', '%ZZ', 'taskarn%00=x'])}`, 400, 'InvalidQuery'],
      ['tasks-no-such-arn', () => `/v1/tasks?taskarn=${encodeURIComponent(`arn:fuzz:none/${rng.chars(ALNUM, 8)}`)}`, 404, 'TaskNotFound'],
      ['tasks-no-such-dockerid', () => `/v1/tasks?dockerid=${ctx.unknownDockerId.slice(0, rng.int(12, 64))}`, 404, 'TaskNotFound'],
      ['progress', () => `/v1/progress${rng.pick(['', '?', '?foo=1', `?taskarn=x&foo=1`, '?TASKARN=x'])}`, 400, 'InvalidQuery'],
    ];
    const [kind, target, status, code, headers] = rng.pick(templates);
    return {
      category: 'query',
      kind,
      script: { parts: [get(target(), headers ?? [])] },
      deadlineMs: DEADLINE_MS,
      expect: { statuses: [status], code },
    };
  },

  'truncated-body': (rng, i) => {
    const body = encode(validTask(rng, `arn:fuzz:truncated/${i}`));
    const cut = rng.int(0, body.length - 1);
    const chunked = rng.chance(0.3);
    const head = requestHead('POST', '/v1/tasks', [
      ['host', 'agent'],
      ['content-type', 'application/json'],
      chunked ? ['transfer-encoding', 'chunked'] : ['content-length', String(body.length + rng.int(0, 1000))],
    ]);
    const sent = chunked ? `${body.length.toString(16)}\r\n${body.subarray(0, cut).toString('latin1')}` : body.subarray(0, cut);
    const hangUp = rng.chance(0.3);
    return {
      category: 'truncated-body',
      kind: `${chunked ? 'chunked' : 'content-length'}-${hangUp ? 'hang-up' : 'half-close'}`,
      script: { parts: [head, sent], then: hangUp ? 'destroy' : 'end' },
      deadlineMs: DEADLINE_MS,
      // A half-closed request can never complete: the parser says so (400) and the server closes.
      expect: hangUp ? { statuses: [], clientHangsUp: true } : { statuses: [400], code: 'BadRequest' },
    };
  },

  'oversize-body': (rng) => {
    const size = MAX_BODY_BYTES + rng.int(1, 256 * 1024);
    const filler = Buffer.alloc(size, 0x20);
    const kind = rng.pick(['declared-and-sent', 'declared-only', 'chunked'] as const);
    const headers: [string, string][] = [['host', 'agent'], ['content-type', 'application/json']];
    const parts: Part[] = [];
    if (kind === 'chunked') {
      parts.push(requestHead('POST', '/v1/tasks', [...headers, ['transfer-encoding', 'chunked']]));
      for (let at = 0; at < size; at += 64 * 1024) {
        const piece = filler.subarray(at, at + 64 * 1024);
        parts.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n');
      }
      parts.push('0\r\n\r\n');
    } else {
      parts.push(requestHead('POST', '/v1/tasks', [...headers, ['content-length', String(size)]]));
      if (kind === 'declared-and-sent') for (let at = 0; at < size; at += 64 * 1024) parts.push(filler.subarray(at, at + 64 * 1024));
    }
    return {
      category: 'oversize-body',
      kind,
      script: { parts, stopWritingOnAnswer: true, then: 'none' },
      deadlineMs: DEADLINE_MS,
      // The agent answers 413 and closes; a client still writing may see the close first.
      expect: { statuses: [413], code: 'PayloadTooLarge', mayClose: true },
    };
  },

  'oversize-headers': (rng, _i, ctx) => {
    const over = ctx.limits.maxHeaderBytes + rng.int(1, 48 * 1024);
    const kind = rng.pick(['one-header', 'many-headers', 'long-target', 'cookie'] as const);
    let head: string;
    if (kind === 'one-header') head = get('/v1/health', [['x-pad', 'p'.repeat(over)]]);
    else if (kind === 'cookie') head = get('/v1/tasks', [['cookie', `a=${'c'.repeat(over)}`]]);
    else if (kind === 'long-target') head = get(`/v1/tasks?taskarn=${'a'.repeat(over)}`);
    // Node counts only the bytes of names and values (here at least 16 a header) toward the limit.
    else head = get('/v1/health', Array.from({ length: Math.ceil(over / 16) }, (_, j): [string, string] => [`x-h${j}`, 'v'.repeat(12)]));
    return {
      category: 'oversize-headers',
      kind,
      script: { parts: [head], stopWritingOnAnswer: true, then: 'none' },
      deadlineMs: DEADLINE_MS,
      expect: { statuses: [431], code: 'HeadersTooLarge', mayClose: true },
    };
  },

  'http-garbage': (rng) => {
    const fixed: [string, string | Buffer, string | undefined][] = [
      ['not-http', 'HELLO\r\n\r\n', 'BadRequest'],
      ['lowercase-method', 'get /v1/health HTTP/1.1\r\nhost: a\r\n\r\n', 'BadRequest'],
      ['unknown-method', 'FETCH /v1/health HTTP/1.1\r\nhost: a\r\n\r\n', 'BadRequest'],
      ['long-method', `${'GET'.repeat(200)} /v1/health HTTP/1.1\r\nhost: a\r\n\r\n`, 'BadRequest'],
      ['bad-version', 'GET /v1/health HTTP/1.x\r\nhost: a\r\n\r\n', 'BadRequest'],
      ['http2-preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'BadRequest'],
      ['no-version', 'GET /v1/health\r\nhost: a\r\n\r\n', 'UnsupportedHttpVersion'],
      ['http2-version', 'GET /v1/health HTTP/2.0\r\nhost: a\r\n\r\n', 'UnsupportedHttpVersion'],
      ['http1.9-version', 'GET /v1/health HTTP/1.9\r\nhost: a\r\n\r\n', 'BadRequest'],
      ['tab-separated', 'GET\t/v1/health\tHTTP/1.1\r\nhost: a\r\n\r\n', 'BadRequest'],
      ['header-no-colon', 'GET /v1/health HTTP/1.1\r\nhost: a\r\nbroken\r\n\r\n', 'BadRequest'],
      ['header-space-in-name', 'GET /v1/health HTTP/1.1\r\nhost: a\r\nbad header: x\r\n\r\n', 'BadRequest'],
      ['header-nul', 'GET /v1/health HTTP/1.1\r\nhost: a\r\nx: a\u0000b\r\n\r\n', 'BadRequest'],
      ['obs-fold', 'GET /v1/health HTTP/1.1\r\nhost: a\r\nx: a\r\n b\r\n\r\n', 'BadRequest'],
      ['bare-lf', 'GET /v1/health HTTP/1.1\nhost: a\n\n', 'BadRequest'],
      ['cl-and-te', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 'BadRequest'],
      ['duplicate-cl', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}', 'BadRequest'],
      ['negative-cl', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: -1\r\n\r\n', 'BadRequest'],
      ['text-cl', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: abc\r\n\r\n', 'BadRequest'],
      ['huge-cl', `POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${'9'.repeat(40)}\r\n\r\n`, 'BadRequest'],
      ['te-gzip', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: gzip\r\n\r\n{}', 'BadRequest'],
      ['bad-chunk-size', 'POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 'BadRequest'],
      ['chunk-size-overflow', `POST /v1/tasks HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${'f'.repeat(40)}\r\n`, 'BadRequest'],
      ['no-host', 'GET /v1/health HTTP/1.1\r\n\r\n', undefined],
      ['tls-hello', Buffer.from('16030100a5010000a10303', 'hex'), 'BadRequest'],
    ];
    if (rng.chance(0.7)) {
      const [kind, bytes, code] = rng.pick(fixed);
      return {
        category: 'http-garbage',
        kind,
        script: { parts: [typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes], then: 'none' },
        deadlineMs: DEADLINE_MS,
        expect: { statuses: [400], ...(code === undefined ? {} : { code }) },
      };
    }
    // Random bytes; the first is never a letter, so no method can start and the parser fails at once.
    const junk = Buffer.from(Array.from({ length: rng.int(1, 2048) }, () => rng.int(0, 255)));
    // Not CR or LF either: the parser skips blank lines before a request line and would wait.
    junk[0] = rng.chance(0.5) ? rng.pick([...Array(0x20).keys()].filter((b) => b !== 0x0a && b !== 0x0d)) : rng.int(0x80, 0xff);
    return {
      category: 'http-garbage',
      kind: 'random-bytes',
      script: { parts: [junk], then: 'none' },
      deadlineMs: DEADLINE_MS,
      expect: { statuses: [400], code: 'BadRequest' },
    };
  },

  'slow-headers': (rng, _i, ctx) => {
    const head = get(rng.pick(['/v1/health', '/v1/tasks', '/v1/events?wait=300']));
    const kind = rng.pick(['silent', 'stops', 'dribbles'] as const);
    // Slow enough that the whole head would take at least twice the timeout.
    const pause = Math.ceil((2 * ctx.limits.headersTimeoutMs) / head.length) + rng.int(0, 30);
    const parts = kind === 'silent' ? [] : dribble(head, pause, kind === 'stops' ? rng.int(1, 20) : Number.POSITIVE_INFINITY);
    return {
      category: 'slow-headers',
      kind,
      script: { parts, then: 'none' },
      deadlineMs: ctx.limits.headersTimeoutMs + ctx.limits.timeoutCheckIntervalMs + TIMEOUT_SLACK_MS,
      expect: { statuses: [408], code: 'RequestTimeout', mayClose: true },
    };
  },

  'slow-body': (rng, i, ctx) => {
    const body = encode(validTask(rng, `arn:fuzz:slow-body/${i}`));
    const kind = rng.pick(['dribbles', 'stops'] as const);
    const head = requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'application/json'], ['content-length', String(body.length)]]);
    // Dribbled slowly enough that the whole body would take at least twice the request timeout.
    const pause = Math.ceil((2 * ctx.limits.requestTimeoutMs) / body.length) + 20;
    const parts: Part[] = [head, ...(kind === 'dribbles' ? dribble(body, pause) : [body.subarray(0, rng.int(0, body.length - 1))])];
    return {
      category: 'slow-body',
      kind,
      script: { parts, then: 'none' },
      deadlineMs: ctx.limits.requestTimeoutMs + ctx.limits.timeoutCheckIntervalMs + TIMEOUT_SLACK_MS,
      expect: { statuses: [408], code: 'RequestTimeout', mayClose: true },
    };
  },
};

export const PLAN: Readonly<Record<Category, number>> = {
  'body-mutation': 5_000,
  'deep-nesting': 200,
  'malformed-json': 1_000,
  'content-type': 500,
  method: 500,
  path: 500,
  query: 1_000,
  'truncated-body': 400,
  'oversize-body': 30,
  'oversize-headers': 300,
  'http-garbage': 500,
  'slow-headers': 100,
  'slow-body': 20,
};

/** Which case to make, in which order: the plan's categories, shuffled by the seed (slow ones spread among the quick). */
export function hostileOrder(seed: number, plan: Readonly<Record<Category, number>> = PLAN): Category[] {
  const order: Category[] = [];
  for (const [category, count] of Object.entries(plan) as [Category, number][]) for (let i = 0; i < count; i++) order.push(category);
  return new Rng(seed).shuffle(order);
}

/**
 * Case `index` of the run with this seed. Each case has its own generator, seeded from the run's
 * seed and its index, so cases are made one at a time as they are sent and any one can be made
 * again on its own from the two numbers a failure prints.
 */
export function hostileCase(seed: number, index: number, category: Category, ctx: Context): HostileCase {
  const rng = new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  return GENERATORS[category](rng, index, ctx);
}
