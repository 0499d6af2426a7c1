import type { Command } from 'commander';
import { startAgent } from '../agent.js';
import { resolveConfig, type ConfigFlags } from '../config/config.js';
import { DockerodeClient } from '../docker/dockerode-client.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { openSqliteSaver } from '../state/sqlite-saver.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the agent: serve the control socket and drive tasks on Docker')
    .option('--data-dir <dir>', 'state directory (env BERTH_DATA_DIR; default /var/lib/berth for root, else ~/.local/state/berth)')
    .option('--socket <path>', 'control socket path (env BERTH_SOCKET; default <data-dir>/agent.sock)')
    .option('--docker-host <url>', 'Docker endpoint (env DOCKER_HOST; default unix:///var/run/docker.sock)')
    .option('--concurrency <n>', 'tasks reconciled at once (env BERTH_RECONCILE_CONCURRENCY; default 8)')
    .option('--cleanup-wait <duration>', 'how long a stopped task is kept before cleanup, e.g. 30s, 10m, 1h (env BERTH_TASK_CLEANUP_WAIT; default 1h)')
    .option('--log-level <level>', 'error, warn, info or debug (env BERTH_LOG_LEVEL; default info)')
    .option('--log-format <format>', 'json or text (env BERTH_LOG_FORMAT; default json)')
    .addHelpText('after', '\nExample:\n  agent run --data-dir /tmp/berth --log-format text')
    .action(async (flags: ConfigFlags) => {
      const config = resolveConfig(flags);
      const log = createLogger({ level: config.logLevel, format: config.logFormat });
      log.info('Starting agent', { dataDir: config.dataDir, socket: config.socketPath, dockerHost: config.dockerHost });
      const saver = openSqliteSaver(config.databasePath);
      const docker = new DockerodeClient({
        host: config.dockerHost,
        timeoutMs: config.dockerTimeoutMs,
        pullTimeoutMs: config.pullTimeoutMs,
      });
      let agent;
      try {
        agent = await startAgent({ config, docker, saver, log });
      } catch (error) {
        await saver.close();
        throw error;
      }
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
