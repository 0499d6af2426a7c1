import type { FieldIssue } from '../../errors.js';
import type { TaskDefinition } from '../task.js';
import { hostAddressesOverlap } from '../host-ports.js';
import { isIpcSysctl, isNetSysctl } from './ecs-container-schema.js';
import { formatPath } from './issues.js';
import { REFUSED } from './refusals.js';
import { validateDependencies } from './validate-dependencies.js';
import { validateTemplates } from './validate-templates.js';

/**
 * The rules that look across a task's containers, or need the agent's settings, checked on the
 * model so both input forms obey them alike. Paths name the field as the input form spells it.
 */

export interface TaskRules {
  /** `containers` (short form) or `containerDefinitions` (ECS). */
  readonly containersKey: string;
  readonly allowPrivileged: boolean;
}

export function validateTask(task: TaskDefinition, rules: TaskRules): FieldIssue[] {
  const at = (i: number, ...rest: PropertyKey[]): string => formatPath([rules.containersKey, i, ...rest]);
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  task.containers.forEach((c, i) => {
    if (seen.has(c.name)) issues.push({ path: at(i, 'name'), message: `duplicate container name "${c.name}"` });
    seen.add(c.name);
    if (c.privileged && !rules.allowPrivileged) issues.push({ path: at(i, 'privileged'), message: REFUSED.privileged });
    if (c.portMappings.length > 0 && task.networkMode === 'none') {
      issues.push({ path: at(i, 'portMappings'), message: 'networkMode "none" gives the task no network, so there is nothing to publish a port on' });
    } else if (c.portMappings.length > 0 && c.disableNetworking) {
      issues.push({ path: at(i, 'portMappings'), message: 'disableNetworking leaves the container without a network, so there is nothing to publish a port on' });
    }
    if (c.links.length > 0 && task.networkMode !== 'bridge') {
      issues.push({ path: at(i, 'links'), message: `links work only with bridge networking (Docker's legacy links), not networkMode "${task.networkMode}"` });
    }
    Object.keys(c.systemControls).forEach((namespace, j) => {
      if (task.networkMode === 'host' && isNetSysctl(namespace)) {
        issues.push({ path: at(i, 'systemControls', j, 'namespace'), message: `${namespace} would change the host's own network stack: networkMode "host" shares it` });
      }
      if (task.ipcMode === 'host' && isIpcSysctl(namespace)) {
        issues.push({ path: at(i, 'systemControls', j, 'namespace'), message: `${namespace} would change the host's own IPC settings: ipcMode "host" shares them` });
      }
    });
  });
  issues.push(...hostPortConflicts(task, at), ...volumeIssues(task, at), ...validateDependencies(task, rules.containersKey), ...validateTemplates(task, rules.containersKey));
  return issues;
}

/**
 * A static host port bound twice in one task cannot work: the second bind fails. 0.0.0.0 and ::
 * overlap every address; with host networking every container listens on the host's own ports.
 */
function hostPortConflicts(task: TaskDefinition, at: (i: number, ...rest: PropertyKey[]) => string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const bound: Array<{ ip: string; port: number; protocol: string }> = [];
  task.containers.forEach((c, i) =>
    c.portMappings.forEach((m, j) => {
      if (m.hostPort === undefined) return;
      const clash = bound.find(
        (b) => b.port === m.hostPort && b.protocol === m.protocol && (task.networkMode === 'host' || hostAddressesOverlap(b.ip, m.hostIp)),
      );
      if (clash) {
        issues.push({
          path: at(i, 'portMappings', j, task.networkMode === 'host' ? 'containerPort' : 'hostPort'),
          message:
            task.networkMode === 'host'
              ? `port ${m.hostPort}/${m.protocol} is already used by this task (with host networking each container listens on the host's own ports)`
              : `host port ${m.hostIp}:${m.hostPort}/${m.protocol} is already used by this task`,
        });
      }
      bound.push({ ip: m.hostIp, port: m.hostPort, protocol: m.protocol });
    }),
  );
  return issues;
}

function volumeIssues(task: TaskDefinition, at: (i: number, ...rest: PropertyKey[]) => string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const names = new Set<string>();
  task.volumes.forEach((v, k) => {
    if (names.has(v.name)) issues.push({ path: formatPath(['volumes', k, 'name']), message: `duplicate volume name "${v.name}"` });
    names.add(v.name);
  });
  task.containers.forEach((c, i) =>
    c.mountPoints.forEach((m, j) => {
      if (!names.has(m.sourceVolume)) {
        issues.push({ path: at(i, 'mountPoints', j, 'sourceVolume'), message: `no volume named "${m.sourceVolume}" in this task's volumes` });
      }
    }),
  );
  return issues;
}
