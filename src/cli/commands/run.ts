import { Option, type Command } from 'commander';
import { startAgent } from '../../agent.js';
import type { ConfigFlags } from '../../config/config.js';
import { DockerodeClient } from '../../docker/dockerode-client.js';
import { DockerEndpointRefusedError, errorMessage, PersistenceError, SchemaVersionError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createLogger } from '../../log/logger.js';
import { openSqliteSaver } from '../../state/sqlite-saver.js';
import type { CliContext } from '../io.js';
import { examples } from './shared.js';

type RunFlags = ConfigFlags & { readonly json?: boolean };

function collect(value: string, previous: readonly string[] = []): readonly string[] {
  return [...previous, value];
}

export function registerRunCommand(program: Command, ctx: CliContext): void {
  examples(
    program
      .command('run')
      .description('run the agent: serve the control socket and drive tasks on Docker')
      .option('--data-dir <dir>', 'state directory (env BERTH_DATA_DIR; default /var/lib/berth for root, else ~/.local/state/berth)')
      .option('--socket <path>', 'control socket path (env BERTH_SOCKET; default <data-dir>/agent.sock)')
      .option('--socket-group <group>', 'let this group (name or gid) use the socket, mode 0660 (env BERTH_SOCKET_GROUP; default: owner only)')
      .option('--docker-host <url>', 'Docker endpoint: unix:///path, tcp://host:port or ssh://user@host[:port] (env DOCKER_HOST; default unix:///var/run/docker.sock)')
      .option('--docker-tls-verify', 'speak TLS to a tcp:// Docker host, verifying it against ca.pem and presenting cert.pem/key.pem (env DOCKER_TLS_VERIFY=1; default off)')
      .option('--docker-cert-path <dir>', 'directory holding ca.pem, cert.pem and key.pem (env DOCKER_CERT_PATH; default ~/.docker)')
      .option('--docker-ssh-key <file>', 'private key for an ssh:// Docker host (env BERTH_DOCKER_SSH_KEY; default: the ssh agent at SSH_AUTH_SOCK, else ~/.ssh/id_ed25519, ~/.ssh/id_rsa)')
      .option('--docker-ssh-known-hosts <file>', 'host keys of ssh:// Docker hosts, a new host accepted once and written there (env BERTH_DOCKER_SSH_KNOWN_HOSTS; default <data-dir>/docker-ssh-known-hosts)')
      .option('--concurrency <n>', 'tasks reconciled at once (env BERTH_RECONCILE_CONCURRENCY; default 8)')
      .option('--max-concurrent-pulls <n>', 'Docker image pulls at once; pulls of the same image are shared (env BERTH_MAX_CONCURRENT_PULLS; default 2)')
      .option('--image-pull-behavior <behavior>', 'default (pull, run a cached image if the pull fails), always, once or prefer-cached (env BERTH_IMAGE_PULL_BEHAVIOR; default default)')
      .option('--image-pull-timeout <duration>', 'deadline for one pull attempt, 0 or none for no deadline (env BERTH_IMAGE_PULL_TIMEOUT; default 10m)')
      .option('--image-pull-inactivity-timeout <duration>', 'abort a pull attempt that shows no progress for this long, 0 or none to never (env BERTH_IMAGE_PULL_INACTIVITY_TIMEOUT; default 1m)')
      .option('--image-pull-retries <n>', 'attempts after a pull fails with a retryable error, with backoff (env BERTH_IMAGE_PULL_RETRIES; default 2)')
      .option('--relist-interval <duration>', 'how often the agent lists its containers to catch what events missed (env BERTH_RELIST_INTERVAL; default 30s)')
      .option('--orphan-grace <duration>', 'how long a container of this agent that no task accounts for is kept before removal (env BERTH_ORPHAN_GRACE; default 5m)')
      .option('--docker-config <file>', 'Docker CLI config.json whose registry credentials (auths, credsStore, credHelpers) pulls use (env DOCKER_CONFIG, the directory holding it; default ~/.docker/config.json, if there)')
      .option('--reserved-memory <MiB>', "MiB of the host's memory kept from tasks; a task waits until its reservation fits (env BERTH_RESERVED_MEMORY; default 0)")
      .option('--reserved-cpu <units>', 'CPU units (1024 a CPU) kept from tasks (env BERTH_RESERVED_CPU; default 0)')
      .option('--allow-privileged', 'accept containers with privileged: true, which get every capability and host device (env BERTH_ALLOW_PRIVILEGED; default: refused)')
      .option('--cleanup-wait <duration>', 'how long a stopped task is kept before cleanup, e.g. 30s, 10m, 1h (env BERTH_TASK_CLEANUP_WAIT; default 1h)')
      .option('--image-cleanup-interval <duration>', 'how often unused images this agent pulled or used are removed (env BERTH_IMAGE_CLEANUP_INTERVAL; default 30m, at least 1s)')
      .option('--image-cleanup-min-age <duration>', 'keep an image used or pulled more recently than this (env BERTH_IMAGE_CLEANUP_MIN_AGE; default 1h)')
      .option('--image-cleanup-per-pass <n>', 'images removed at most per cleanup pass, least recently used first (env BERTH_IMAGE_CLEANUP_PER_PASS; default 5)')
      .option('--image-cleanup-exclude <refs>', 'images never removed, comma-separated; may be repeated (env BERTH_IMAGE_CLEANUP_EXCLUDE; default none)', collect)
      .option('--no-image-cleanup', 'never remove images (env BERTH_IMAGE_CLEANUP_ENABLED=false; default: cleanup on)')
      .option('--recreate-on-drift', 'make a container changed behind the agent\'s back anew (env BERTH_RECREATE_ON_DRIFT; default: only reported)')
      .option('--container-metadata', 'give each container an ECS container metadata file, its path in ECS_CONTAINER_METADATA_FILE (env BERTH_CONTAINER_METADATA; default: off)')
      .option('--cluster <name>', "the cluster name this agent reports, the metadata files' Cluster (env BERTH_CLUSTER; default default)")
      .option('--stats-interval <duration>', 'how often each running container\'s usage is sampled for /metrics and agent task stats (env BERTH_STATS_INTERVAL; default 10s, at least 1s)')
      .option('--etcd-endpoints <urls>', 'etcd client URLs, comma-separated: take tasks from and report status to etcd (env BERTH_ETCD_ENDPOINTS; default: none, the fleet is off)')
      .option('--etcd-ca <file>', 'CA certificate that https:// etcd endpoints are verified against (env BERTH_ETCD_CA)')
      .option('--etcd-cert <file>', 'client certificate for etcd (env BERTH_ETCD_CERT; with --etcd-key)')
      .option('--etcd-key <file>', 'client key for etcd (env BERTH_ETCD_KEY; with --etcd-cert)')
      .option('--etcd-prefix <prefix>', 'the fleet\'s key prefix in etcd (env BERTH_ETCD_PREFIX; default /berth)')
      .option('--host-name <name>', 'this host\'s name under <prefix>/hosts/ (env BERTH_HOST_NAME; default the agent ID)')
      .option('--etcd-lease-ttl <seconds>', 'TTL of the lease the alive key is kept under (env BERTH_ETCD_LEASE_TTL; default 10)')
      .option('--stats-max-tasks <n>', 'sample usage only while at most this many tasks have a running container, 0 for never (env BERTH_STATS_MAX_TASKS; default 100)')
      .option('--manifests <dir>', 'watch this directory: each *.json, *.yaml or *.yml file in it is one task of the manifests source (env BERTH_MANIFESTS; default: off)')
      .option('--event-retention-count <n>', 'keep at most this many events on the feed (env BERTH_EVENT_RETENTION_COUNT; default 100000)')
      .option('--event-retention-age <duration>', 'keep no event older than this, e.g. 12h, 7d (env BERTH_EVENT_RETENTION_AGE; default 7d)')
      .option('--event-retention-interval <duration>', 'how often event retention runs (env BERTH_EVENT_RETENTION_INTERVAL; default 1m)')
      .option('--event-retention-hard-cap <n>', 'keep events a route has not delivered up to this many events in all (env BERTH_EVENT_RETENTION_HARD_CAP; default 1000000)')
      .option('--config <file>', 'the config file (YAML or JSON) declaring event routes (env BERTH_CONFIG)')
      .option('--log-level <level>', 'error, warn, info or debug (env BERTH_LOG_LEVEL; default info)')
      .addOption(new Option('--log-format <format>', 'json or text (env BERTH_LOG_FORMAT; default json)').conflicts('json'))
      .option('--json', 'log JSON lines (the same as --log-format json)'),
    'agent run --data-dir /tmp/berth --log-format text',
    'agent run --socket-group berth-operators --event-retention-count 50000 --event-retention-age 2d',
    'agent run --image-cleanup-interval 10m --image-cleanup-min-age 3h --image-cleanup-exclude myorg/base:1,busybox',
  ).action(async (flags: RunFlags, command: Command) => {
    const { json, ...given } = flags;
    // Commander defaults a `--no-` flag to true; only an explicit one may hide BERTH_IMAGE_CLEANUP_ENABLED.
    const rest = command.getOptionValueSource('imageCleanup') === 'default' ? { ...given, imageCleanup: undefined } : given;
    const config = ctx.config(json ? { ...rest, logFormat: 'json' } : rest);
    const log = createLogger({ level: config.logLevel, format: config.logFormat });
    log.info('Starting agent', { dataDir: config.dataDir, socket: config.socketPath, dockerHost: config.dockerHost });
    let saver;
    try {
      saver = openSqliteSaver(config.databasePath, {
        onQuarantine: (entry) => log.warn('Task quarantined: its saved rows cannot be loaded', { ...entry }),
      });
    } catch (error) {
      // A damaged or future-schema database: say so and exit 5, as `state dump` does, never start empty.
      if (error instanceof PersistenceError || error instanceof SchemaVersionError) {
        log.error('Cannot open the state database', { error: error.message });
        throw new CliError(error.message, EXIT.state);
      }
      throw error;
    }
    const docker = new DockerodeClient({
      host: config.dockerHost,
      ...(config.dockerTls === undefined ? {} : { tls: config.dockerTls }),
      ...(config.dockerSsh === undefined ? {} : { ssh: config.dockerSsh }),
      // No pull deadline of its own: the engine's ImagePuller enforces the configured pull timeouts.
      timeoutMs: config.dockerTimeoutMs,
    });
    await checkRemoteEndpoint(docker, config.dockerHost, log);
    let agent;
    try {
      agent = await startAgent({ config, docker, saver, log });
    } catch (error) {
      await saver.close();
      throw error;
    }
    // The daemon's life is the process's: it ends on SIGTERM/SIGINT, not on the CLI's abort signal.
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info('Shutting down', { signal });
        agent
          .close()
          .catch((error: unknown) => log.error('Shutdown failed', { error: errorMessage(error) }))
          .finally(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}

/**
 * A remote endpoint is tried once before starting. A refusal (certificate, ssh key, host key)
 * never fixes itself: the agent does not start (exit 2). An unreachable one may be an outage: the
 * agent starts as it does with a local Docker that is down, health answering 503 until it answers.
 */
async function checkRemoteEndpoint(docker: DockerodeClient, dockerHost: string, log: Logger): Promise<void> {
  if (dockerHost.startsWith('unix://')) return;
  try {
    await docker.ping();
    log.info('Docker answers', { dockerHost });
  } catch (error) {
    if (error instanceof DockerEndpointRefusedError) throw new CliError(error.message, EXIT.usage);
    log.error('Docker is unreachable at start-up; starting anyway, health reports 503 until it answers', { dockerHost, error: errorMessage(error) });
  }
}
