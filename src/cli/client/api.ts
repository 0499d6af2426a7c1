import type { TaskView } from '../../api/view.js';
import { ControlClient, type ClientResponse } from '../../control/client.js';
import { CliError, EXIT } from '../exit-codes.js';

/** The `{error}` body every non-2xx answer of the agent carries. */
export interface ApiErrorBody {
  readonly code?: string;
  readonly message?: string;
  readonly resumeAfter?: number;
  readonly issues?: ReadonlyArray<{ path: string; message: string }>;
}

/** An error answer, kept whole so a command can react to its code (e.g. 410 on the event feed). */
export class ApiRefusal extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | undefined,
    raw: unknown,
  ) {
    super(refusalMessage(status, body, raw), EXIT.rejected);
  }
}

function refusalMessage(status: number, body: ApiErrorBody | undefined, raw: unknown): string {
  const head = `agent refused (${status}${body?.code ? ` ${body.code}` : ''})`;
  // The message repeats the issues on one line; one per line reads better.
  if (body?.issues?.length) return `${head}:\n${body.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`;
  return `${head}: ${body?.message ?? (typeof raw === 'string' ? raw : JSON.stringify(raw))}`;
}

export function errorBody(raw: unknown): ApiErrorBody | undefined {
  return (raw as { error?: ApiErrorBody } | undefined)?.error;
}

export function unreachable(socketPath: string, error: unknown): CliError {
  return new CliError(
    `cannot reach the agent on ${socketPath}: ${(error as Error).message} (is \`agent run\` running? --socket or --data-dir choose another agent)`,
    EXIT.unreachable,
  );
}

/** The agent's socket API as the CLI uses it: errors become CliErrors carrying their exit codes. */
export class Api {
  private readonly client: ControlClient;

  constructor(readonly socketPath: string) {
    this.client = new ControlClient(socketPath);
  }

  async send<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ClientResponse<T>> {
    let res: ClientResponse<T>;
    try {
      res = await this.client.send<T>(method, path, body);
    } catch (error) {
      throw unreachable(this.socketPath, error);
    }
    if (res.status >= 400) throw new ApiRefusal(res.status, errorBody(res.body), res.body);
    return res;
  }

  async task(arn: string): Promise<TaskView> {
    return (await this.send<TaskView>('GET', `/v1/tasks?taskarn=${encodeURIComponent(arn)}`)).body;
  }

  /** The event feed's bounds, from the agent's metadata. */
  async eventBounds(): Promise<{ oldestSeq: number | null; lastSeq: number }> {
    return (await this.send<{ events: { oldestSeq: number | null; lastSeq: number } }>('GET', '/v1/metadata')).body.events;
  }

  /** The newest event seq: a watcher that starts after it misses nothing that happens next. */
  async lastSeq(): Promise<number> {
    return (await this.eventBounds()).lastSeq;
  }
}
