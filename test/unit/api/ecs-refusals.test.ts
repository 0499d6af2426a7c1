import { describe, expect, it } from 'vitest';
import { ecs, issues, LINUX_X64, parsed, type Body } from './ecs-support.js';
import { hostPlatform } from '../../../src/api/schema.js';

/** What cannot be honoured on a plain Docker host: refused, naming the field and saying why. */
const REFUSALS: Array<[string, Body, string, RegExp]> = [
  ['networkMode awsvpc', ecs({}, { networkMode: 'awsvpc' }), 'networkMode', /"awsvpc" gives each task its own elastic network interface/],
  ['secrets', ecs({ secrets: [{ name: 'DB', valueFrom: 'arn:aws:ssm:::parameter/db' }] }), 'containerDefinitions[0].secrets', /Secrets Manager or SSM Parameter Store/],
  ['valueFrom in an environment entry', ecs({ environment: [{ name: 'DB', valueFrom: 'arn:aws:ssm:::parameter/db' }] }), 'containerDefinitions[0].environment[0].valueFrom', /give the value itself/],
  ['repositoryCredentials', ecs({ repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:::secret:x' } }), 'containerDefinitions[0].repositoryCredentials', /Secrets Manager/],
  ['firelensConfiguration', ecs({ firelensConfiguration: { type: 'fluentbit' } }), 'containerDefinitions[0].firelensConfiguration', /FireLens/],
  ['the awsfirelens log driver', ecs({ logConfiguration: { logDriver: 'awsfirelens' } }), 'containerDefinitions[0].logConfiguration.logDriver', /FireLens sidecar/],
  ['logConfiguration.secretOptions', ecs({ logConfiguration: { logDriver: 'splunk', secretOptions: [{ name: 'splunk-token', valueFrom: 'x' }] } }), 'containerDefinitions[0].logConfiguration.secretOptions', /Secrets Manager/],
  ['efsVolumeConfiguration', ecs({}, { volumes: [{ name: 'v', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }), 'volumes[0].efsVolumeConfiguration', /Amazon EFS/],
  ['fsxWindowsFileServerVolumeConfiguration', ecs({}, { volumes: [{ name: 'v', fsxWindowsFileServerVolumeConfiguration: { fileSystemId: 'fs-1' } }] }), 'volumes[0].fsxWindowsFileServerVolumeConfiguration', /Amazon FSx/],
  ['a volume configured at launch (EBS)', ecs({}, { volumes: [{ name: 'v', configuredAtLaunch: true }] }), 'volumes[0].configuredAtLaunch', /Amazon EBS/],
  ['inferenceAccelerators', ecs({}, { inferenceAccelerators: [{ deviceName: 'd', deviceType: 'eia2.medium' }] }), 'inferenceAccelerators', /Elastic Inference/],
  ['inferenceDevices', ecs({ inferenceDevices: ['d'] }), 'containerDefinitions[0].inferenceDevices', /Elastic Inference/],
  ['resourceRequirements', ecs({ resourceRequirements: [{ type: 'GPU', value: '1' }] }), 'containerDefinitions[0].resourceRequirements', /GPUs or Elastic Inference/],
  ['proxyConfiguration', ecs({}, { proxyConfiguration: { type: 'APPMESH', containerName: 'envoy' } }), 'proxyConfiguration', /App Mesh/],
  ['environmentFiles', ecs({ environmentFiles: [{ type: 's3', value: 'arn:aws:s3:::b/e.env' }] }), 'containerDefinitions[0].environmentFiles', /Amazon S3/],
  ['credentialSpecs', ecs({ credentialSpecs: ['credentialspecdomainless:arn:aws:s3:::b/spec.json'] }), 'containerDefinitions[0].credentialSpecs', /gMSA/],
  ['a credentialspec security option', ecs({ dockerSecurityOptions: ['credentialspec:file://spec.json'] }), 'containerDefinitions[0].dockerSecurityOptions[0]', /gMSA/],
  ['a port range', ecs({ portMappings: [{ containerPort: 80, containerPortRange: '8000-8010' }] }), 'containerDefinitions[0].portMappings[0].containerPortRange', /single ports/],
  ['privileged, without --allow-privileged', ecs({ privileged: true }), 'containerDefinitions[0].privileged', /unless it was started with --allow-privileged/],
  ['a runtimePlatform for another OS', ecs({}, { runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' } }), 'runtimePlatform.operatingSystemFamily', /this host runs LINUX containers on X86_64; a task for WINDOWS_SERVER_2022_CORE cannot run here/],
  ['a runtimePlatform for another CPU', ecs({}, { runtimePlatform: { cpuArchitecture: 'ARM64' } }), 'runtimePlatform.cpuArchitecture', /a task for ARM64 cannot run here/],
];

describe('ECS fields a plain Docker host cannot honour', () => {
  it.each(REFUSALS)('refuses %s, naming the field and why', (_what, body, path, why) => {
    const found = issues(body);
    expect(found.map((i) => i.slice(0, i.indexOf(': ')))).toEqual([path]);
    expect(found[0]).toMatch(why);
  });

  it.each([
    ['secrets: []', ecs({ secrets: [] })],
    ['resourceRequirements: []', ecs({ resourceRequirements: [] })],
    ['environmentFiles: []', ecs({ environmentFiles: [] })],
    ['logConfiguration.secretOptions: []', ecs({ logConfiguration: { logDriver: 'json-file', secretOptions: [] } })],
    ['inferenceAccelerators: []', ecs({}, { inferenceAccelerators: [] })],
    ['configuredAtLaunch: false', ecs({}, { volumes: [{ name: 'v', configuredAtLaunch: false }] })],
    ['a disabled restart policy', ecs({ restartPolicy: { enabled: false, restartAttemptPeriod: 60 } })],
    ['privileged: false', ecs({ privileged: false })],
  ])('accepts %s, which asks for nothing', (_what, body) => {
    expect(issues(body)).toEqual([]);
  });

  it('runs a privileged container when the agent allows it', () => {
    const input = parsed(ecs({ privileged: true }), { ...LINUX_X64, allowPrivileged: true });
    expect(input.kind === 'definition' && input.task.containers[0]!.privileged).toBe(true);
  });

  it('matches runtimePlatform against the host it is given', () => {
    const arm = { allowPrivileged: false, platform: hostPlatform('linux', 'arm64') };
    expect(issues(ecs({}, { runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } }), arm)).toEqual([]);
    expect(issues(ecs({}, { runtimePlatform: { cpuArchitecture: 'X86_64' } }), arm)).toEqual([
      'runtimePlatform.cpuArchitecture: this host runs LINUX containers on ARM64; a task for X86_64 cannot run here',
    ]);
  });
});
