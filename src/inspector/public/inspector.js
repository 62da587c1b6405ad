// The inspector page: a summary of the fleet, the proxies table with a details panel, the fleet
// timeline, both machines' charts and the event log, fed by /inspect/events (batches of changed
// cards, a few a second at most); commands are POSTed to the API.
import { createDetails, highlight } from './details.js';
import { duration, elapsed, isProblem, ms, now, setDaemonTime } from './format.js';
import { API, INSPECT } from './paths.js';
import { createTable } from './table.js';
import { createTimeline } from './timeline.js';

const TOKEN_KEY = 'proxy-monitor-token';
const LOG_ROWS = 500;
const PHASES = ['crashed', 'restarting', 'running', 'stopped', 'unknown'];

const $ = (id) => document.getElementById(id);
const cards = new Map();
let summary = null;

const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
tokenInput.addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));

const chartSvg = (name) => fetch(`${INSPECT}/charts/${name}.svg`).then((reply) => reply.text());
const proxyChart = chartSvg('proxy');
const charts = Promise.all([
  proxyChart.then((svg) => ($('chart-proxy').innerHTML = svg)),
  chartSvg('monitor').then((svg) => ($('chart-monitor').innerHTML = svg)),
]);

/** POST a command; resolves with an error text, or nothing when it was done. */
async function command(id, action) {
  const headers = tokenInput.value ? { authorization: `Bearer ${tokenInput.value}` } : {};
  try {
    const reply = await fetch(`${API}/proxies/${encodeURIComponent(id)}/${action}`, { method: 'POST', headers });
    if (!reply.ok) {
      const body = await reply.json().catch(() => ({}));
      return `${action}: ${body.message ?? reply.statusText}`;
    }
    return undefined;
  } catch (failure) {
    return `${action}: ${failure.message}`;
  }
}

const table = createTable($('grid'), cards, { onOpen: (id) => details.open(id) });
const details = createDetails({ cards, chart: proxyChart, command, onClose: () => table.select(null) });
const timeline = createTimeline({
  order: () => table.order(),
  onOpen: (id) => {
    showTab('proxies');
    table.select(id);
    details.open(id);
  },
});

// ---- summary --------------------------------------------------------------------------------------

const filters = $('counts');
for (const name of ['all', 'problems', ...PHASES]) {
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.filter = name;
  button.className = `count phase-${name}`;
  button.setAttribute('aria-pressed', String(name === 'all'));
  button.innerHTML = '<span class="name"></span> <b></b>';
  button.querySelector('.name').textContent = name;
  button.addEventListener('click', () => setFilter(table.filter === name ? 'all' : name));
  filters.append(button);
}

function setFilter(name) {
  table.setFilter(name);
  for (const button of filters.children) button.setAttribute('aria-pressed', String(button.dataset.filter === name));
  timeline.redraw();
}

function renderSummary() {
  if (!summary) return;
  const problems = [...cards.values()].filter((card) => isProblem(card)).length;
  const counts = { all: summary.total, problems, ...summary.status_count };
  for (const button of filters.children) button.querySelector('b').textContent = String(counts[button.dataset.filter] ?? 0);
  $('monitor-state').textContent = summary.monitor;
  $('restarts-hour').textContent = String(summary.restarts_last_hour);
  const round = summary.round;
  $('round').textContent = round
    ? `${round.checked} checks in ${elapsed(round.duration_ms)}, ${duration(now() - ms(round.time))} ago`
    : 'no round yet';
  const health = $('health');
  health.textContent = `${summary.health.ok ? 'ok' : 'FAILING'} (${summary.health.state})`;
  health.title = summary.health.message;
  health.className = summary.health.ok ? 'ok' : 'failing';
  charts.then(() => {
    highlight($('chart-monitor'), summary.monitor, 'current');
    const occupied = [...new Set([...cards.values()].map((card) => card.state))];
    for (const node of $('chart-proxy').querySelectorAll('[data-state]')) {
      const state = node.dataset.state;
      node.classList.toggle(
        'occupied',
        occupied.some((path) => path === state || path.startsWith(`${state}.`)),
      );
    }
  });
}

// ---- tabs -----------------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
function showTab(name) {
  for (const tab of tabs) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`tab-${tab.dataset.tab}`).hidden = !selected;
  }
  if (name === 'timeline') timeline.show();
  else timeline.hide();
  if (name === 'events') writeLog();
}
for (const tab of tabs) {
  tab.addEventListener('click', () => showTab(tab.dataset.tab));
  tab.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    next.focus();
    showTab(next.dataset.tab);
  });
}

// ---- search and keys ------------------------------------------------------------------------------

const search = $('search');
search.addEventListener('input', () => {
  table.setQuery(search.value);
  timeline.redraw();
});
document.addEventListener('keydown', (event) => {
  const typing = event.target instanceof HTMLInputElement;
  if (event.key === '/' && !typing) {
    event.preventDefault();
    showTab('proxies');
    search.focus();
  } else if (event.key === 'Escape') {
    if (typing && search.value) {
      search.value = '';
      table.setQuery('');
    } else details.close();
  }
});

// ---- event log ------------------------------------------------------------------------------------

// Milliseconds: a crash and its restart often happen within one second. One formatter for every
// row: building one per call (toLocaleTimeString with options does) was the page's largest cost in
// a storm.
const clock = new Intl.DateTimeFormat([], {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});

/**
 * State changes not yet in the table, newest first, as the feed sent them: the log is formatted and
 * written only while its tab is shown.
 */
let unwritten = [];

function logTransitions(transitions, dropped) {
  const newest = [...transitions, ...(dropped ? [{ dropped }] : [])].reverse();
  unwritten = [...newest, ...unwritten].slice(0, LOG_ROWS);
  if (!$('tab-events').hidden) writeLog();
}

function writeLog() {
  const body = $('log').tBodies[0];
  const rows = unwritten.map((entry) => {
    const row = document.createElement('tr');
    if (entry.dropped) {
      row.className = 'dropped';
      const cell = row.insertCell();
      cell.colSpan = 4;
      cell.textContent = `${entry.dropped} more state changes not shown (too many at once)`;
    } else {
      const { at, actor, event, from, to } = entry;
      for (const text of [clock.format(new Date(at)), actor, event, `${from} → ${to}`]) row.insertCell().textContent = text;
      row.dataset.actor = actor;
    }
    return row;
  });
  unwritten = [];
  body.prepend(...rows);
  while (body.rows.length > LOG_ROWS) body.lastElementChild.remove();
}

// ---- the feed -------------------------------------------------------------------------------------

function onBatch(batch) {
  setDaemonTime(batch.now);
  if (batch.reset) cards.clear();
  const changed = new Set();
  for (const card of batch.cards) {
    cards.set(card.id, card);
    changed.add(card.id);
  }
  for (const id of batch.removed) {
    cards.delete(id);
    changed.add(id);
  }
  if (batch.summary) summary = batch.summary;
  if (batch.transitions.length || batch.dropped) logTransitions(batch.transitions, batch.dropped);
  if (changed.size || batch.reset) {
    table.changed();
    details.changed(changed);
    timeline.redraw();
  }
  renderSummary();
}

const events = new EventSource(`${INSPECT}/events`);
events.addEventListener('open', () => {
  $('connection').textContent = 'live';
  $('connection').className = 'live';
});
events.addEventListener('error', () => {
  $('connection').textContent = 'reconnecting';
  $('connection').className = 'offline';
});
events.addEventListener('message', (message) => onBatch(JSON.parse(message.data)));

setInterval(() => {
  table.tick();
  details.tick();
  renderSummary();
}, 1000);
