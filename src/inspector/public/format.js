// Words and numbers for the page, and the order of the table: problems first, then ids in natural
// order (p2 before p10).

/** The daemon's clock minus ours: uptimes and countdowns count from the daemon's timestamps. */
let skew = 0;
export const setDaemonTime = (ms) => {
  skew = ms - Date.now();
};
export const now = () => Date.now() + skew;

/** An ISO time of the daemon's as epoch ms (null stays null). */
export const ms = (time) => (time == null ? null : Date.parse(time));

/** "3s", "4m12s", "2h5m", "3d4h". */
export function duration(ms) {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ];
  const found = parts.findIndex(([n]) => n > 0);
  const first = found === -1 ? 3 : found;
  return parts
    .slice(first, first + 2)
    .map(([n, u]) => `${n}${u}`)
    .join('');
}

/** Milliseconds under a second, else as duration(). */
export const elapsed = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : duration(ms));

export const ago = (at) => (at == null ? '-' : `${duration(now() - at)} ago`);

/** A symbol per phase, so a state reads without colour too. */
export const SYMBOL = { running: '●', crashed: '✖', restarting: '↻', stopped: '■', unknown: '?' };

/** A crash within this long keeps a proxy among the problems after it is running again. */
export const RECENT_MS = 10 * 60_000;

/** 0 is the worst. Crashed, restarting, failing checks, crashed lately, never checked, fine. */
export function severity(card, at = now()) {
  if (card.phase === 'crashed') return 0;
  if (card.phase === 'restarting') return 1;
  if (card.phase === 'running' && (card.check_failures > 0 || card.last_check?.ok === false)) return 2;
  if (card.last_crash && at - ms(card.last_crash.time) < RECENT_MS) return 3;
  if (card.phase === 'unknown') return 4;
  return 5;
}
export const PROBLEM = 3;
export const isProblem = (card, at) => severity(card, at) <= PROBLEM;

export const naturally = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

export function crashText(crash) {
  if (!crash) return '-';
  const how = crash.signal ?? (crash.exit_code === null ? crash.reason : `exit ${crash.exit_code}`);
  return `${how} ${ago(ms(crash.time))}`;
}

export function checkText(card) {
  const check = card.last_check;
  if (!check) return '-';
  const failures = card.check_failures > 1 ? ` ×${card.check_failures}` : '';
  return `${check.ok ? 'ok' : 'FAIL'}${failures} ${ago(ms(check.time))}`;
}

export function nextText(card) {
  const at = now();
  if (card.next_attempt_at !== null) return `retry in ${duration(ms(card.next_attempt_at) - at)}`;
  if (card.state === 'crashed.held') return card.wanted === 'down' ? 'held: stopped' : 'held: monitoring off';
  const cooldown = ms(card.cooldown_ends_at);
  if (cooldown !== null && cooldown > at) return `cooldown ${duration(cooldown - at)}`;
  return '-';
}

export function monitoringText(card) {
  if (!card.enabled) return 'off';
  return card.monitoring_active ? 'on' : 'paused';
}

export const uptimeText = (card) => (card.started_at === null ? '-' : duration(now() - ms(card.started_at)));

/** The state's first level, then the rest: "crashed" and "waiting". */
export function stateParts(card) {
  const [phase, ...rest] = card.state.split('.');
  return [phase, rest.join('.')];
}
