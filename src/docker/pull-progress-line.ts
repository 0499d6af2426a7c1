import type { PullProgress } from './docker-client.js';

interface ProgressLine {
  status?: unknown;
  id?: unknown;
  error?: unknown;
  errorDetail?: { message?: unknown };
  progressDetail?: { current?: unknown; total?: unknown };
}

/** One line of a pull's progress stream: what to report, and the error it carries, if any. */
export function parseProgressLine(line: string): { progress: PullProgress; error?: string } {
  let raw: ProgressLine;
  try {
    raw = JSON.parse(line) as ProgressLine;
  } catch {
    // Docker writes only JSON here; anything else is passed on rather than failing a pull that may succeed.
    return { progress: { status: line } };
  }
  const error =
    typeof raw.error === 'string' && raw.error
      ? raw.error
      : typeof raw.errorDetail?.message === 'string' && raw.errorDetail.message
        ? raw.errorDetail.message
        : raw.errorDetail !== undefined || raw.error !== undefined
          ? 'the pull reported an error'
          : undefined;
  const { current, total } = raw.progressDetail ?? {};
  return {
    progress: {
      ...(typeof raw.id === 'string' ? { id: raw.id } : {}),
      status: typeof raw.status === 'string' ? raw.status : '',
      ...(typeof current === 'number' ? { current } : {}),
      ...(typeof total === 'number' ? { total } : {}),
    },
    ...(error !== undefined ? { error } : {}),
  };
}
