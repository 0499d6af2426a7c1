/**
 * What berth says about the ECS fields it does not run. A refusal says why the field cannot be
 * honoured on a plain Docker host (the task is not accepted); an ignored field matters only to
 * AWS, is accepted, has no effect, and comes back as a warning. The README's task-definition reference lists
 * the same fields with the same reasons.
 */

export const REFUSED = {
  awsvpc:
    'networkMode "awsvpc" gives each task its own elastic network interface in a VPC, which only AWS can attach; use "bridge" (the default), "host" or "none"',
  secrets:
    'secrets are read from AWS Secrets Manager or SSM Parameter Store with the task execution role, which this host does not have; put the values in environment instead',
  secretOptions:
    'secretOptions are read from AWS Secrets Manager or SSM Parameter Store with the task execution role, which this host does not have; put the values in options instead',
  valueFrom:
    'valueFrom reads the value from AWS Secrets Manager or SSM Parameter Store, which this host cannot reach; give the value itself',
  repositoryCredentials:
    'repositoryCredentials name a secret in AWS Secrets Manager, which this host cannot read; pull from a registry the Docker daemon can reach without them',
  firelensConfiguration:
    'FireLens is the ECS agent writing a Fluent Bit or Fluentd configuration into a sidecar; there is no such agent here. Use a Docker log driver (fluentd, gelf, json-file...) in logConfiguration',
  awsfirelens:
    'the awsfirelens log driver routes logs through an ECS FireLens sidecar, which only the ECS agent sets up; use a Docker log driver such as fluentd, gelf or json-file',
  efsVolumeConfiguration:
    'EFS volumes are Amazon EFS file systems mounted with IAM and the EFS mount helper; use a host path (host.sourcePath) or a dockerVolumeConfiguration instead',
  fsxWindowsFileServerVolumeConfiguration:
    'FSx for Windows File Server volumes need Amazon FSx, Active Directory and a Windows host',
  configuredAtLaunch:
    'a volume configured at launch is an Amazon EBS volume attached by ECS when the task is placed; declare a host path or a Docker volume instead',
  inferenceAccelerators: 'Elastic Inference accelerators are an AWS service (closed to new customers); a Docker host has none',
  inferenceDevices: 'inferenceDevices name Elastic Inference accelerators, an AWS service a Docker host has none of',
  resourceRequirements:
    'resourceRequirements reserve GPUs or Elastic Inference accelerators through ECS placement; berth does not schedule devices (give a GPU device in linuxParameters.devices if the host has one)',
  proxyConfiguration:
    'proxyConfiguration (App Mesh) makes the ECS CNI plugin redirect the task\'s traffic to Envoy in an awsvpc network namespace, which a plain Docker host does not have',
  environmentFiles:
    'environmentFiles are read from Amazon S3 with the task execution role, which this host does not have; put the variables in environment instead',
  credentialSpecs: 'credentialSpecs (gMSA) need Active Directory and a credential spec from AWS; a plain Docker host cannot use them',
  credentialspec: 'a credentialspec security option (gMSA) needs Active Directory and Windows containers',
  containerPortRange: 'berth publishes single ports; list each port as its own portMappings entry with containerPort',
  privileged: 'privileged gives the container every capability and all host devices; this agent refuses it unless it was started with --allow-privileged',
} as const;

export const IGNORED = {
  taskRoleArn: 'the task IAM role is served by the ECS credentials endpoint, which is not here; AWS calls made from inside the containers will have no role',
  executionRoleArn: 'the execution role lets the ECS agent pull from ECR and read secrets; berth pulls with the Docker daemon\'s own credentials',
  requiresCompatibilities: 'a launch-type constraint for ECS placement; this task runs on this host',
  compatibilities: 'set by ECS when it registers a task definition; it has no effect here',
  taskDefinitionArn: 'set by ECS when it registers a task definition; this task is known by its arn',
  status: 'the registration status ECS keeps for a task definition; it has no effect here',
  requiresAttributes: 'placement attributes ECS derived for its scheduler; this task runs on this host',
  registeredAt: 'set by ECS when it registers a task definition; it has no effect here',
  registeredBy: 'set by ECS when it registers a task definition; it has no effect here',
  deregisteredAt: 'set by ECS when it deregisters a task definition; it has no effect here',
  placementConstraints: 'placement constraints steer the ECS scheduler; this task runs on this host',
  tags: 'AWS resource tags; use dockerLabels to label the containers',
  ephemeralStorage: 'the size of a Fargate task\'s ephemeral storage; on this host containers use the Docker daemon\'s storage',
  enableFaultInjection: 'ECS fault injection endpoints are not served here',
  versionConsistency: 'berth runs the image by the reference given; it does not pin the digest ECS resolves',
  appProtocol: 'the application protocol is used by ECS Service Connect, which is not here; the port is published as tcp or udp',
  awslogs:
    'the awslogs driver sends to CloudWatch Logs with the Docker daemon\'s own AWS credentials (an instance role, or the daemon\'s environment); without them the container fails to start with Docker\'s message',
  swappiness: 'swappiness has no effect without maxSwap (as in ECS)',
} as const;
