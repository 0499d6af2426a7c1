/**
 * Resolves with the first defined answer of `check` (polled every `everyMs`), so a test waits for
 * the condition it needs instead of sleeping for a time that is usually enough. Fails after `ms`
 * naming `what`, with `context()` (e.g. the agent's log) appended.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { ms?: number; everyMs?: number; context?: () => string } = {},
): Promise<T> {
  const ms = options.ms ?? 30_000;
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms${options.context ? `\n${options.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100));
  }
}
