// The panel of the selected proxy: its facts, the buttons, why its last restart decision went the
// way it did, its restarts of the last hour, its statechart with the current state marked, and its
// last output lines. The rest is read from the API when the panel opens and when the proxy changes.
import { API } from './paths.js';
import { ago, checkText, crashText, duration, monitoringText, ms, nextText, now, stateParts, SYMBOL, uptimeText } from './format.js';

const HOUR_MS = 3600_000;
/** The API is asked again at most this often while the proxy keeps changing. */
const REFRESH_MS = 1000;

const $ = (id) => document.getElementById(id);

/** Mark the state and its ancestors in a chart. */
export function highlight(container, path, className) {
  for (const node of container.querySelectorAll('[data-state]')) {
    const state = node.dataset.state;
    node.classList.toggle(className, path !== null && (path === state || path.startsWith(`${state}.`)));
  }
}

async function getJson(path) {
  const reply = await fetch(`${API}${path}`);
  if (!reply.ok) throw new Error((await reply.json().catch(() => ({}))).message ?? reply.statusText);
  return reply.json();
}

/** Scroll the chart so that the deepest current state is in the middle. */
function centre(container) {
  const nodes = container.querySelectorAll('.current');
  const svg = container.querySelector('svg');
  if (!nodes.length || !svg) return;
  const box = nodes[nodes.length - 1].getBBox();
  const scale = svg.clientWidth / svg.viewBox.baseVal.width;
  container.scrollLeft = (box.x + box.width / 2) * scale - container.clientWidth / 2;
  container.scrollTop = (box.y + box.height / 2) * scale - container.clientHeight / 2;
}

export function createDetails({ cards, chart, command, onClose }) {
  const panel = $('details');
  let id = null;
  /** The state the chart was last centred on: a tick does not undo the reader's scrolling. */
  let centred = null;
  let lastFetch = 0;
  let pending = 0;

  chart.then((svg) => {
    $('details-chart').innerHTML = svg;
    centred = null;
    if (id && cards.has(id)) facts(cards.get(id));
  });

  for (const button of panel.querySelectorAll('[data-action]')) {
    button.addEventListener('click', async () => {
      $('details-error').textContent = '';
      const error = await command(id, button.dataset.action);
      $('details-error').textContent = error ?? '';
    });
  }
  $('details-close').addEventListener('click', () => close());
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });

  function facts(card) {
    const [phase, sub] = stateParts(card);
    $('details-title').textContent = card.id;
    $('details-type').textContent = card.type;
    const badge = $('details-state');
    badge.className = `badge phase-${phase}`;
    badge.textContent = `${SYMBOL[phase] ?? ''} ${phase}${sub ? ` · ${sub}` : ''}`;
    const rows = [
      ['pid', card.pid ?? '-'],
      ['uptime', uptimeText(card)],
      ['monitoring', monitoringText(card)],
      ['restarts this hour', `${card.restarts_in_window} / ${card.max_restarts}`],
      ['next attempt', nextText(card)],
      ['last check', `${checkText(card)}${card.last_check?.error ? `: ${card.last_check.error}` : ''}`],
      ['last crash', card.last_crash ? `${crashText(card.last_crash)} (${card.last_crash.reason})` : '-'],
      [
        'last restart',
        card.last_restart
          ? `${card.last_restart.success ? 'succeeded' : 'failed'} ${ago(ms(card.last_restart.time) + card.last_restart.duration_ms)}, ${card.last_restart.reason}${card.last_restart.manual ? ' (manual)' : ''}, ${card.last_restart.duration_ms} ms`
          : '-',
      ],
    ];
    $('details-facts').replaceChildren(
      ...rows.flatMap(([term, value]) => {
        const dt = document.createElement('dt');
        const dd = document.createElement('dd');
        dt.textContent = term;
        dd.textContent = String(value);
        return [dt, dd];
      }),
    );
    highlight($('details-chart'), card.state, 'current');
    if (centred !== `${card.id} ${card.state}`) {
      centred = `${card.id} ${card.state}`;
      centre($('details-chart'));
    }
    for (const button of panel.querySelectorAll('[data-action]')) {
      const action = button.dataset.action;
      button.disabled =
        (action === 'enable' && card.enabled) ||
        (action === 'disable' && !card.enabled) ||
        (action === 'start' && card.wanted === 'up' && card.phase !== 'crashed');
    }
  }

  function history(records) {
    const strip = $('details-history');
    const at = now();
    const recent = records.filter((r) => at - Date.parse(r.time) <= HOUR_MS);
    strip.replaceChildren(
      ...recent.map((record) => {
        const tick = document.createElement('span');
        tick.className = `tick ${record.success ? 'ok' : 'failed'}`;
        tick.style.left = `${100 - ((at - Date.parse(record.time)) / HOUR_MS) * 100}%`;
        tick.title = `${record.time} ${record.reason}${record.manual ? ' (manual)' : ''}: ${record.success ? 'ok' : (record.error ?? 'failed')}, ${record.duration_ms} ms`;
        return tick;
      }),
    );
    const failed = recent.filter((r) => !r.success).length;
    $('details-history-text').textContent = recent.length
      ? `${recent.length} restart${recent.length === 1 ? '' : 's'} in the last hour, ${failed} failed (tall marks); last ${duration(at - Date.parse(recent[0].time))} ago`
      : 'no restart in the last hour';
  }

  /** Why, history and output, read again; at most every REFRESH_MS. */
  function refresh() {
    clearTimeout(pending);
    const wait = lastFetch + REFRESH_MS - Date.now();
    if (wait > 0) {
      pending = setTimeout(refresh, wait);
      return;
    }
    lastFetch = Date.now();
    const asked = id;
    const path = `/proxies/${encodeURIComponent(asked)}`;
    getJson(`${path}/why`).then(
      (why) => {
        if (asked !== id) return;
        $('details-why').textContent = why.message;
        $('details-guard').textContent = why.decision
          ? `verdict: ${why.decision.verdict}${why.decision.guard ? `, guard: ${why.decision.guard}` : ''}, decided ${ago(Date.parse(why.decision.decided_at))}`
          : '';
      },
      (error) => ($('details-why').textContent = `why: ${error.message}`),
    );
    getJson(`${path}/history?since=1h&limit=1000`).then(
      (reply) => asked === id && history(reply.records),
      () => {},
    );
    getJson(`${path}/output`).then(
      (reply) => {
        if (asked !== id) return;
        $('details-output').textContent = reply.lines.length
          ? reply.lines.map((l) => `${l.time.slice(11, 23)} ${l.stream === 'stderr' ? '!' : ' '} ${l.line}`).join('\n')
          : '(no output since the daemon started)';
      },
      () => {},
    );
  }

  function close() {
    if (id === null) return;
    id = null;
    centred = null;
    panel.hidden = true;
    onClose();
  }

  return {
    open(next) {
      const card = cards.get(next);
      if (!card) return;
      const changed = next !== id;
      id = next;
      panel.hidden = false;
      facts(card);
      if (changed) {
        for (const field of ['details-why', 'details-guard', 'details-output', 'details-history-text', 'details-error'])
          $(field).textContent = '';
        $('details-history').replaceChildren();
        lastFetch = 0;
      }
      refresh();
    },
    /** Cards changed: the open one is shown again, and the API asked again. */
    changed(ids) {
      if (id === null) return;
      if (!cards.has(id)) return close();
      if (!ids.has(id)) return;
      facts(cards.get(id));
      refresh();
    },
    tick() {
      if (id !== null && cards.has(id)) facts(cards.get(id));
    },
    close,
    get id() {
      return id;
    },
  };
}
