/** The CLI's exit codes; documented in the README. */
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
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
