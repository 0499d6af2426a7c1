import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldIssue } from '../../../src/errors.js';
import { ECS_REFERENCE } from './ecs-reference.js';
import { LINUX_X64, parsed } from './ecs-support.js';

/**
 * Every task definition in ../shared/ecs-taskdefs (77 real ones, see its SOURCES.md), read from
 * there as written, with only an arn added: accepted, or refused naming each field and why. The
 * expected refusals were checked by hand against the definitions; each is a field the issue lists
 * as unusable on a plain Docker host, or a value no Docker host could run (a placeholder image, a
 * template family, a 4 MiB memory limit, a key ECS does not define).
 */
const FOLDER = new URL('../../../../shared/ecs-taskdefs/', import.meta.url);
const FILES = readdirSync(FOLDER).filter((f) => /^\d{3}-.*\.json$/.test(f)).sort();

/** The templates whose placeholders are not JSON. */
const INVALID_JSON = ['004', '030', '061', '069'];

const c = (i: number, rest: string): string => `containerDefinitions[${i}]${rest}`;
const firelens = (router: number, app: number): string[] => [c(router, '.firelensConfiguration'), c(app, '.logConfiguration.logDriver')];

/** File number → the paths of the issues it is refused with. Files not listed are accepted. */
const REFUSED: Readonly<Record<string, readonly string[]>> = {
  '003': [c(0, '')], // portBindings: not an ECS field (the old agent tests' typo for portMappings)
  '032': [c(0, '.privileged')], // without --allow-privileged
  '034': [c(0, '')], // portBindings again
  '045': [...firelens(0, 1), c(1, '.logConfiguration.secretOptions')],
  '046': [c(0, '.secrets')],
  '047': ['volumes[0].efsVolumeConfiguration'],
  '048': [c(0, '.resourceRequirements')],
  '049': [c(0, '.inferenceDevices'), 'networkMode', 'inferenceAccelerators'],
  '050': [c(0, '.repositoryCredentials')],
  '051': ['networkMode'],
  '054': ['networkMode', 'proxyConfiguration'],
  '055': ['networkMode'],
  // The CLI's skeleton: every field present, almost every value empty.
  '058': [
    'family',
    ...[
      '.name', '.image', '.memory', '.memoryReservation', '.links[0]', '.portMappings[0].containerPort', '.environment[0].name',
      '.mountPoints[0].sourceVolume', '.mountPoints[0].containerPath', '.volumesFrom[0].sourceContainer',
      '.linuxParameters.capabilities.add[0]', '.linuxParameters.capabilities.drop[0]', '.linuxParameters.devices[0].hostPath',
      '.linuxParameters.devices[0].containerPath', '.linuxParameters.tmpfs[0].containerPath', '.linuxParameters.tmpfs[0].size',
      '.linuxParameters.tmpfs[0].mountOptions[0]', '.dependsOn[0].containerName', '.startTimeout', '.hostname', '.user',
      '.workingDirectory', '.dnsServers[0]', '.dnsSearchDomains[0]', '.extraHosts[0].hostname', '.extraHosts[0].ipAddress',
      '.dockerSecurityOptions[0]', '.logConfiguration.secretOptions', '.healthCheck.command[0]', '.healthCheck.interval',
      '.healthCheck.timeout', '.healthCheck.retries', '.systemControls[0].namespace', '.systemControls[0].value',
      '.repositoryCredentials', '.secrets', '.environmentFiles', '.resourceRequirements', '.firelensConfiguration',
    ].map((rest) => c(0, rest)),
    'volumes[0].name',
    'volumes[0].host.sourcePath',
    'volumes[0].dockerVolumeConfiguration.driver',
    'volumes[0].efsVolumeConfiguration',
    'volumes[0].fsxWindowsFileServerVolumeConfiguration',
    'volumes[0].dockerVolumeConfiguration',
    'cpu',
    'memory',
    'proxyConfiguration',
    'inferenceAccelerators',
  ],
  '059': [c(0, '.image')], // ${YOUR_IMAGE}
  '060': ['networkMode'],
  '063': ['networkMode'],
  '065': firelens(0, 1),
  '066': firelens(0, 1),
  '067': firelens(0, 1),
  '068': [...firelens(0, 2), 'networkMode', 'proxyConfiguration'],
  '070': [c(0, '.healthCheck.command[0]'), 'networkMode'], // ["/healthcheck"]: Docker would never run it
  '071': [c(0, '.image')], // {{sampleAppImage}}
  '072': [c(0, '.image'), c(1, '.image')], // <your ... image URL here>
  '074': [c(0, '.image'), 'networkMode', 'proxyConfiguration'],
  '075': [c(0, '.secrets')],
  '076': [c(2, '.memory'), c(3, '.memory'), 'volumes[1]'], // 4 MiB; a readOnly key ECS's Volume does not have
  '077': ['family', c(0, '.dockerLabels.io.redis.novalue'), c(1, '.image'), c(2, '.image'), 'volumes[0].host.sourcePath'], // "", null, no image, "."
};

type Outcome = { kind: 'invalid-json'; message: string } | { kind: 'accepted'; warnings: readonly FieldIssue[] } | { kind: 'refused'; issues: readonly FieldIssue[] };

function outcome(file: string, options = LINUX_X64): Outcome {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    return { kind: 'invalid-json', message: (error as Error).message };
  }
  try {
    return { kind: 'accepted', warnings: parsed({ ...body, arn: `arn:test:taskdefs/${file.slice(0, 3)}` }, options).warnings };
  } catch (error) {
    if (error instanceof ValidationError) return { kind: 'refused', issues: error.issues };
    throw error;
  }
}

const counts = { accepted: 0, refused: 0, invalidJson: 0 };

describe('the ECS task definitions in ../shared/ecs-taskdefs', () => {
  it('are all here: 77 of them', () => {
    expect(FILES).toHaveLength(77);
  });

  it.each(FILES)('%s', (file) => {
    const number = file.slice(0, 3);
    const result = outcome(file);
    if (INVALID_JSON.includes(number)) {
      expect(result).toMatchObject({ kind: 'invalid-json', message: expect.stringMatching(/JSON/) });
      counts.invalidJson++;
    } else if (REFUSED[number]) {
      expect(result.kind).toBe('refused');
      const issues = result.kind === 'refused' ? result.issues : [];
      expect(issues.map((i) => i.path)).toEqual(REFUSED[number]);
      for (const issue of issues) {
        expect(issue.message).not.toMatch(/Unrecognized key|Invalid input/);
        // An unknown key is only ever one ECS does not define, and the message names it.
        const unknown = /^unknown field "([^"]+)": ECS's (\w+) has no such field/.exec(issue.message);
        if (unknown) expect(ECS_REFERENCE[unknown[2]!]).not.toContain(unknown[1]);
      }
      counts.refused++;
    } else {
      expect(result).toMatchObject({ kind: 'accepted' });
      counts.accepted++;
    }
  });

  it('accepts the privileged one when the agent runs with --allow-privileged', () => {
    expect(outcome('032-ecsagent-privileged.json', { ...LINUX_X64, allowPrivileged: true }).kind).toBe('accepted');
  });

  it('061, the restart-policy template, once its placeholders are filled in, is refused only for its awsvpc network: the enabled restartPolicy is accepted', () => {
    const text = readFileSync(new URL('061-awsdocs-restart-policy.json', FOLDER), 'utf8').replace('{{[0]}}', '[0]').replace('{{180}}', '180');
    const body = JSON.parse(text) as Record<string, unknown>;
    let refused: readonly FieldIssue[] = [];
    try {
      parsed({ ...body, arn: 'arn:test:taskdefs/061' });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      refused = error.issues;
    }
    expect(refused.map((i) => i.path)).toEqual(['networkMode']);
    const { networkMode: _awsvpc, ...bridged } = body;
    const input = parsed({ ...bridged, arn: 'arn:test:taskdefs/061' });
    expect(input.kind === 'definition' && input.task.containers[0]!.restartPolicy).toEqual({ ignoredExitCodes: [0], restartAttemptPeriod: 180 });
  });

  it('come to 46 accepted, 27 refused with a reason and 4 invalid JSON', () => {
    console.log(`ecs-taskdefs: ${counts.accepted} accepted, ${counts.refused} refused with a reason, ${counts.invalidJson} invalid JSON (of ${FILES.length})`);
    expect(counts).toEqual({ accepted: 46, refused: 27, invalidJson: 4 });
  });
});
