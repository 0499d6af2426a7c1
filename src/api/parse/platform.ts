import type { FieldIssue } from '../../errors.js';
import type { EcsTask } from './ecs-schema.js';

/** The host in ECS's runtimePlatform terms. */
export interface HostPlatform {
  readonly operatingSystemFamily: string;
  readonly cpuArchitecture: string;
}

const OS_FAMILY: Readonly<Record<string, string>> = { linux: 'LINUX' };
const ARCHITECTURE: Readonly<Record<string, string>> = { x64: 'X86_64', arm64: 'ARM64' };

/** `process.platform` and `process.arch` as ECS names them (anything else, upper-cased, matches nothing ECS asks for). */
export function hostPlatform(platform: string = process.platform, arch: string = process.arch): HostPlatform {
  return {
    operatingSystemFamily: OS_FAMILY[platform] ?? platform.toUpperCase(),
    cpuArchitecture: ARCHITECTURE[arch] ?? arch.toUpperCase(),
  };
}

/** A runtimePlatform this host matches only says where the task may run: a warning. Any other is refused. */
export function checkRuntimePlatform(
  requested: EcsTask['runtimePlatform'],
  host: HostPlatform,
): { issues: FieldIssue[]; warnings: FieldIssue[] } {
  if (!requested) return { issues: [], warnings: [] };
  const issues: FieldIssue[] = [];
  for (const key of ['operatingSystemFamily', 'cpuArchitecture'] as const) {
    const wanted = requested[key];
    if (wanted !== undefined && wanted !== host[key]) {
      issues.push({
        path: `runtimePlatform.${key}`,
        message: `this host runs ${host.operatingSystemFamily} containers on ${host.cpuArchitecture}; a task for ${wanted} cannot run here`,
      });
    }
  }
  const warnings =
    issues.length === 0
      ? [{ path: 'runtimePlatform', message: `accepted, no effect: this host (${host.operatingSystemFamily}, ${host.cpuArchitecture}) matches it` }]
      : [];
  return { issues, warnings };
}
