/*
 * Loaded with `node --import <this file's URL>?ms=N` before the agent, as libfaketime would be:
 * the process's wall clock (Date.now, new Date()) reads N ms ahead of the host's. Nothing in the
 * agent knows; the Docker daemon's times stay the host's. A container that ran a second therefore
 * looks to the agent as if it ran N ms more, which is how the restart tests get past ECS's
 * smallest restartAttemptPeriod (60 s) without waiting it out. See clockAhead in agent-process.ts.
 */
const ms = Number(new URL(import.meta.url).searchParams.get('ms'));
if (!Number.isSafeInteger(ms)) throw new Error(`clock-ahead.mjs needs ?ms=<whole milliseconds>, got ${import.meta.url}`);

const RealDate = Date;
function AheadDate(...args) {
  // Called without `new`, Date gives the current time as text.
  if (!new.target) return new RealDate(RealDate.now() + ms).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + ms) : new RealDate(...args);
}
AheadDate.prototype = RealDate.prototype;
AheadDate.now = () => RealDate.now() + ms;
AheadDate.parse = RealDate.parse;
AheadDate.UTC = RealDate.UTC;
globalThis.Date = AheadDate;
