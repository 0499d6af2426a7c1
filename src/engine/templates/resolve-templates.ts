import type { ContainerState, TaskState } from '../../api/task.js';
import { mayHoldTemplates, parseTemplate, type TemplateRef } from '../../api/template-variables.js';

/*
 * Resolves the template variables of a container's environment (README "Template variables") from
 * what the task state knows about the other containers: pure, so the planner can ask whether a
 * container can be created and the spec builder gets the very same values. Each container a
 * reference names has started before this one is created (an implied START dependency,
 * src/api/dependency-edges.ts), so its networks, PID and hostname have been read from Docker.
 */

export type ResolvedEnvironment =
  | { readonly ok: true; readonly environment: Readonly<Record<string, string>> }
  /** `message` names the environment variable and the reference: `environment DB_HOST: %%host@db%%: …`. */
  | { readonly ok: false; readonly message: string };

export function resolveEnvironment(task: Pick<TaskState, 'containers'>, c: ContainerState): ResolvedEnvironment {
  return resolveWith(task, c, new Set());
}

/** `seen`: containers whose environment is being resolved, so an `env` chain cannot loop (cycles are refused at POST). */
function resolveWith(task: Pick<TaskState, 'containers'>, c: ContainerState, seen: Set<string>): ResolvedEnvironment {
  const env = c.definition.environment;
  if (!Object.values(env).some(mayHoldTemplates)) return { ok: true, environment: env };
  seen.add(c.definition.name);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const parsed = parseTemplate(value);
    if (!parsed.ok) return { ok: false, message: `environment ${name}: ${parsed.message}` };
    let text = '';
    for (const part of parsed.parts) {
      if (typeof part === 'string') {
        text += part;
        continue;
      }
      const v = valueOf(task, c, part, seen);
      if (!v.ok) return { ok: false, message: `environment ${name}: ${part.raw}: ${v.why}` };
      text += v.value;
    }
    out[name] = text;
  }
  seen.delete(c.definition.name);
  return { ok: true, environment: out };
}

type Value = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly why: string };
const value = (v: string | number): Value => ({ ok: true, value: String(v) });
const unresolved = (why: string): Value => ({ ok: false, why });

function valueOf(task: Pick<TaskState, 'containers'>, c: ContainerState, ref: TemplateRef, seen: Set<string>): Value {
  const name = ref.container;
  if (name === c.definition.name) return unresolved(`${name} is this container: template variables come from another container of the task`);
  const sibling = task.containers.find((x) => x.definition.name === name);
  if (!sibling) return unresolved(`${name} names no container of this task`);
  switch (ref.variable) {
    case 'host':
      return hostOf(sibling, ref.key);
    case 'port':
      return portOf(sibling, ref.key);
    case 'pid':
      return sibling.pid === undefined ? unresolved(`${name} has no PID: it is not running`) : value(sibling.pid);
    case 'hostname':
      return sibling.hostname === undefined ? unresolved(`${name} has no hostname yet: it has not been seen running`) : value(sibling.hostname);
    case 'env':
      return envOf(task, sibling, ref.key!, seen);
  }
}

/** An address the sibling has on a network: the named one, or its only one. */
function hostOf(sibling: ContainerState, network: string | undefined): Value {
  const name = sibling.definition.name;
  const networks = sibling.networks ?? {};
  const onto = Object.keys(networks);
  const where = onto.length === 0 ? 'it is on no network' : `it is on ${onto.join(', ')}`;
  if (network !== undefined) {
    const attachment = networks[network];
    if (!attachment) return unresolved(`${name} is not on network ${network} (${where})`);
    return attachment.ipAddress ? value(attachment.ipAddress) : unresolved(`${name} has no address on network ${network}`);
  }
  const addressed = Object.entries(networks).filter(([, a]) => a.ipAddress);
  if (addressed.length === 1) return value(addressed[0]![1].ipAddress!);
  if (addressed.length === 0) return unresolved(`${name} has no network address (${where})`);
  return unresolved(`${name} has addresses on several networks (${addressed.map(([n]) => n).join(', ')}): name one, %%host_<network>@${name}%%`);
}

/**
 * The sibling's container ports (what another container reaches it on at its network address),
 * sorted ascending as Datadog sorts them: the highest, one by index, or one by its mapping's name.
 */
function portOf(sibling: ContainerState, key: string | undefined): Value {
  const name = sibling.definition.name;
  const mappings = sibling.definition.portMappings;
  const ports = [...new Set(mappings.map((m) => m.containerPort))].sort((a, b) => a - b);
  if (key !== undefined && !/^\d+$/.test(key)) {
    const mapping = mappings.find((m) => m.name === key);
    if (mapping) return value(mapping.containerPort);
    const named = mappings.flatMap((m) => (m.name === undefined ? [] : [m.name]));
    return unresolved(`${name} has no port mapping named ${key} (${named.length === 0 ? 'none of its port mappings has a name' : `its names: ${named.join(', ')}`})`);
  }
  if (ports.length === 0) return unresolved(`${name} has no ports`);
  if (key === undefined) return value(ports[ports.length - 1]!);
  const index = Number(key);
  if (index >= ports.length) return unresolved(`index ${index} is out of range: ${name} has ${ports.length} port${ports.length === 1 ? '' : 's'} (${ports.join(', ')})`);
  return value(ports[index]!);
}

/** The sibling's environment variable, with its own template variables resolved. */
function envOf(task: Pick<TaskState, 'containers'>, sibling: ContainerState, key: string, seen: Set<string>): Value {
  const name = sibling.definition.name;
  if (!Object.hasOwn(sibling.definition.environment, key)) return unresolved(`${name} has no environment variable ${key}`);
  if (seen.has(name)) return unresolved(`${name}'s environment refers back to this one`);
  const resolved = resolveWith(task, sibling, seen);
  if (!resolved.ok) return unresolved(`in ${name}'s ${resolved.message}`);
  return value(resolved.environment[key]!);
}
