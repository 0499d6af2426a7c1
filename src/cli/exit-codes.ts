/**
 * The CLI's exit codes; documented in the README. Scripts branch on these, so a code keeps its
 * meaning forever: new meanings get new numbers.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected; the message says what. */
  failure: 1,
  /** Bad flags or arguments, or an input file that does not validate. */
  usage: 2,
  /** No agent answers on the socket. */
  unreachable: 3,
  /** The agent answered with an error (4xx/5xx). */
  rejected: 4,
  /** The state database could not be read. */
  state: 5,
  /** `task apply --wait`: the task stopped instead of reaching RUNNING. */
  taskStopped: 6,
  /** `task apply --wait`: the task did not get there within `--timeout`. */
  timeout: 7,
  /**
   * `events`: the cursor cannot be served (410: events after it were pruned, or it is ahead of
   * the feed); the client must resync from `agent task ls` and resume where the message says.
   */
  cursorGone: 8,
  /** Interrupted (Ctrl-C) while waiting, as shells report SIGINT: 128 + 2. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
