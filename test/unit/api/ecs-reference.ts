/**
 * The fields ECS defines, per type, as its API reference lists them (RegisterTaskDefinition's
 * input and DescribeTaskDefinition's output). Written out here, independently of the parser, so
 * the tests can tell an ECS field from a key ECS does not have.
 */
export const ECS_REFERENCE: Readonly<Record<string, readonly string[]>> = {
  TaskDefinition: [
    'family', 'taskRoleArn', 'executionRoleArn', 'networkMode', 'containerDefinitions', 'volumes', 'placementConstraints',
    'requiresCompatibilities', 'cpu', 'memory', 'tags', 'pidMode', 'ipcMode', 'proxyConfiguration', 'inferenceAccelerators',
    'ephemeralStorage', 'runtimePlatform', 'enableFaultInjection', 'taskDefinitionArn', 'revision', 'status',
    'requiresAttributes', 'compatibilities', 'registeredAt', 'deregisteredAt', 'registeredBy',
  ],
  ContainerDefinition: [
    'name', 'image', 'repositoryCredentials', 'cpu', 'memory', 'memoryReservation', 'links', 'portMappings', 'essential',
    'restartPolicy', 'entryPoint', 'command', 'environment', 'environmentFiles', 'mountPoints', 'volumesFrom',
    'linuxParameters', 'secrets', 'dependsOn', 'startTimeout', 'stopTimeout', 'versionConsistency', 'hostname', 'user',
    'workingDirectory', 'disableNetworking', 'privileged', 'readonlyRootFilesystem', 'dnsServers', 'dnsSearchDomains',
    'extraHosts', 'dockerSecurityOptions', 'interactive', 'pseudoTerminal', 'dockerLabels', 'ulimits', 'logConfiguration',
    'healthCheck', 'systemControls', 'resourceRequirements', 'firelensConfiguration', 'credentialSpecs',
  ],
  PortMapping: ['containerPort', 'hostPort', 'protocol', 'name', 'appProtocol', 'containerPortRange'],
  KeyValuePair: ['name', 'value'],
  MountPoint: ['sourceVolume', 'containerPath', 'readOnly'],
  VolumeFrom: ['sourceContainer', 'readOnly'],
  ContainerDependency: ['containerName', 'condition'],
  HealthCheck: ['command', 'interval', 'timeout', 'retries', 'startPeriod'],
  Ulimit: ['name', 'softLimit', 'hardLimit'],
  HostEntry: ['hostname', 'ipAddress'],
  SystemControl: ['namespace', 'value'],
  LinuxParameters: ['capabilities', 'devices', 'initProcessEnabled', 'sharedMemorySize', 'tmpfs', 'maxSwap', 'swappiness'],
  KernelCapabilities: ['add', 'drop'],
  Device: ['hostPath', 'containerPath', 'permissions'],
  Tmpfs: ['containerPath', 'size', 'mountOptions'],
  LogConfiguration: ['logDriver', 'options', 'secretOptions'],
  ContainerRestartPolicy: ['enabled', 'ignoredExitCodes', 'restartAttemptPeriod'],
  Volume: ['name', 'host', 'dockerVolumeConfiguration', 'efsVolumeConfiguration', 'fsxWindowsFileServerVolumeConfiguration', 'configuredAtLaunch'],
  HostVolumeProperties: ['sourcePath'],
  DockerVolumeConfiguration: ['scope', 'autoprovision', 'driver', 'driverOpts', 'labels'],
  RuntimePlatform: ['cpuArchitecture', 'operatingSystemFamily'],
};

/**
 * Keys berth knows beyond ECS's reference, each refused with its own reason rather than as
 * unknown: `valueFrom` on an environment entry (a secret written in the wrong place) and
 * `inferenceDevices` (in the ECS agent's own Elastic Inference test).
 */
export const REFUSED_NON_ECS: Readonly<Record<string, readonly string[]>> = {
  KeyValuePair: ['valueFrom'],
  ContainerDefinition: ['inferenceDevices'],
};
