// Node clamps a timer delay above 2^31-1 ms (24.8 days) to 1 ms, and so fires it at once. Every wait
// whose length comes from a setting or a computed deadline goes through here, so no setting, present
// or future, can turn a long wait into a busy loop: long waits are chained in steps Node can hold.
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  timer: NodeJS.Timeout | undefined;
}

/** setTimeout for any delay: negative and NaN count as 0, beyond MAX_TIMER_MS the wait is chained. */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  const handle: LongTimeout = { timer: undefined };
  let remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  const step = () => {
    const chunk = Math.min(remaining, MAX_TIMER_MS);
    remaining -= chunk;
    handle.timer = setTimeout(remaining > 0 ? step : fn, chunk);
  };
  step();
  return handle;
}

export function clearLongTimeout(handle: LongTimeout | undefined): void {
  if (handle) clearTimeout(handle.timer);
}
