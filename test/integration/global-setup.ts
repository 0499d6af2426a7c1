import { execFileSync } from 'node:child_process';
import { AUTH_REGISTRY } from '../support/auth-registry.js';

export const TEST_IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';

/**
 * Integration tests never skip silently: without a Docker engine and the test registry they fail
 * the run here, with the reason and the command that fixes it.
 */
export default function setup(): void {
  const problems: string[] = [];
  try {
    execFileSync('/usr/bin/docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    problems.push(`Docker engine not reachable on /var/run/docker.sock (${String((err as Error).message).split('\n')[0]})`);
  }
  try {
    execFileSync('curl', ['-fsS', '-m', '5', 'http://127.0.0.1:5000/v2/'], { stdio: 'pipe' });
  } catch {
    problems.push('test registry not answering on 127.0.0.1:5000');
  }
  // The private-registry tests' registry: up means it asks for credentials (401).
  let auth = 'no answer';
  try {
    auth = execFileSync('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${AUTH_REGISTRY.host}/v2/`], { encoding: 'utf8' }).trim();
  } catch {
    // Nothing listening: reported below.
  }
  // The fleet tests' three-member etcd cluster (scripts/setup-etcd.sh): every member must answer.
  for (const port of [23791, 23792, 23793]) {
    try {
      execFileSync('curl', ['-fsS', '-m', '5', `http://127.0.0.1:${port}/health`], { stdio: 'pipe' });
    } catch {
      problems.push(`etcd test member not answering on 127.0.0.1:${port} (scripts/setup-etcd.sh)`);
    }
  }
  if (auth !== '401') problems.push(`auth test registry not answering 401 on ${AUTH_REGISTRY.host} (got ${auth})`);
  if (problems.length > 0) {
    throw new Error(
      `Integration tests need Docker and the test registry:\n  - ${problems.join('\n  - ')}\n` +
        'Run `sudo scripts/setup-docker.sh` (scripts/test-all.sh does this for you).',
    );
  }
}
