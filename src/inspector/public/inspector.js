// The inspector page: cards, charts and log fed by /inspect/events; commands POSTed to the API.
const API = '/api/v1/proxy/monitor';
const TOKEN_KEY = 'proxy-monitor-token';
const LOG_ROWS = 500;
const HOUR_MS = 3600_000;

const cards = new Map();
const $ = (selector, root = document) => root.querySelector(selector);

const tokenInput = $('#token');
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
tokenInput.addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));

const chartSvg = async (name) => (await fetch(`/inspect/charts/${name}.svg`)).text();
const charts = Promise.all(
  ['proxy', 'monitor'].map(async (machine) => {
    $(`#chart-${machine}`).innerHTML = await chartSvg(machine);
  }),
);
/** Each card draws the proxy's top-level states: the whole chart would be too small to read there. */
const overview = chartSvg('proxy-overview');

/** The daemon's clock minus ours: uptimes and countdowns count from the daemon's timestamps. */
let skew = 0;
const now = () => Date.now() + skew;

/** Mark the state and its ancestors in one chart. */
function highlight(container, path, className) {
  for (const node of container.querySelectorAll('[data-state]')) {
    const state = node.dataset.state;
    node.classList.toggle(className, path !== null && (path === state || path.startsWith(`${state}.`)));
  }
}

function duration(ms) {
  if (ms <= 0) return '0s';
  const s = Math.round(ms / 1000);
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const first = parts.findIndex(([n]) => n > 0);
  return parts.slice(first === -1 ? 3 : first, (first === -1 ? 3 : first) + 2).map(([n, u]) => `${n}${u}`).join('');
}

const until = (iso) => (iso === null ? '-' : `in ${duration(Date.parse(iso) - now())}`);

function cardFor(id) {
  if (cards.has(id)) return cards.get(id);
  const element = $('#card').content.firstElementChild.cloneNode(true);
  element.dataset.id = id;
  $('.id', element).textContent = id;
  for (const button of element.querySelectorAll('button')) button.addEventListener('click', () => command(id, button.dataset.action));
  overview.then((svg) => {
    $('.mini-chart', element).innerHTML = svg;
    highlight($('.mini-chart', element), cards.get(id)?.data?.state ?? null, 'current');
  });
  const sorted = [...cards.keys(), id].sort();
  const next = cards.get(sorted[sorted.indexOf(id) + 1]);
  $('#proxies').insertBefore(element, next ? next.element : null);
  const card = { element, data: null };
  cards.set(id, card);
  return card;
}

function renderTimes(card) {
  const { element, data } = card;
  $('.uptime', element).textContent = data.started_at === null ? '-' : duration(now() - data.started_at);
  $('.cooldown', element).textContent = until(data.cooldown_ends_at);
  $('.next', element).textContent = until(data.next_attempt_at);
}

function renderCard(data) {
  const card = cardFor(data.id);
  const before = card.data;
  card.data = data;
  const { element } = card;
  element.dataset.state = data.state;
  element.dataset.phase = data.phase;
  $('.state', element).textContent = data.state;
  $('.pid', element).textContent = data.pid ?? '-';
  $('.enabled', element).textContent = data.enabled ? 'on' : 'off';
  $('.restarts', element).textContent = `${data.restarts_in_window} / ${data.max_restarts}`;
  $('.why', element).textContent = data.decision ?? '';
  renderTimes(card);
  highlight(element, data.state, 'current');
  highlightOccupied();
  if (!before || before.restarts_in_window !== data.restarts_in_window || before.phase !== data.phase) loadHistory(card);
}

/** On the big proxy chart: every state some proxy is in. */
function highlightOccupied() {
  const chart = $('#chart-proxy');
  for (const node of chart.querySelectorAll('[data-state]')) {
    const state = node.dataset.state;
    const count = [...cards.values()].filter(({ data }) => data && (data.state === state || data.state.startsWith(`${state}.`))).length;
    node.classList.toggle('occupied', count > 0);
  }
}
// Cards can arrive before the chart does.
charts.then(highlightOccupied);

/** Restarts of the last hour as ticks: green when it worked, red when not, taller when slower. */
async function loadHistory(card) {
  const id = card.data.id;
  const reply = await fetch(`${API}/proxies/${encodeURIComponent(id)}/history?limit=100`);
  if (!reply.ok) return;
  const { records } = await reply.json();
  const svg = $('.history', card.element);
  svg.replaceChildren();
  for (const record of records) {
    const age = now() - Date.parse(record.time);
    if (age > HOUR_MS) continue;
    const height = Math.min(36, 8 + Math.log2(1 + record.duration_ms));
    const tick = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    tick.setAttribute('x', String(236 - (age / HOUR_MS) * 236));
    tick.setAttribute('y', String(40 - height));
    tick.setAttribute('width', '3');
    tick.setAttribute('height', String(height));
    tick.setAttribute('class', record.success ? 'ok' : 'failed');
    const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    title.textContent = `${record.time} ${record.reason}${record.manual ? ' (manual)' : ''}: ${record.success ? 'ok' : record.error ?? 'failed'}, ${record.duration_ms} ms`;
    tick.append(title);
    svg.append(tick);
  }
}

async function command(id, action) {
  const card = cards.get(id);
  const error = $('.error', card.element);
  error.textContent = '';
  const headers = tokenInput.value ? { authorization: `Bearer ${tokenInput.value}` } : {};
  try {
    const reply = await fetch(`${API}/proxies/${encodeURIComponent(id)}/${action}`, { method: 'POST', headers });
    if (!reply.ok) {
      const body = await reply.json().catch(() => ({}));
      error.textContent = `${action}: ${body.message ?? reply.statusText}`;
      return;
    }
    renderCard(cardOf((await reply.json()).proxy, card.data));
  } catch (failure) {
    error.textContent = `${action}: ${failure.message}`;
  }
}

/** The API's reply to a command, in the feed's card shape (so the page changes without waiting). */
function cardOf(proxy, previous) {
  return {
    ...previous,
    state: proxy.sub_state,
    phase: proxy.state,
    pid: proxy.pid,
    enabled: proxy.enabled,
    restarts_in_window: proxy.restarts_in_window,
    max_restarts: proxy.max_restarts,
    cooldown_ends_at: proxy.cooldown_ends_at,
    next_attempt_at: proxy.next_attempt_at,
  };
}

function logTransition({ at, actor, event, from, to }) {
  const row = document.createElement('tr');
  // Milliseconds: a crash and its restart often happen within one second.
  const time = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });
  for (const text of [time, actor, event, `${from} → ${to}`]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  row.dataset.actor = actor;
  row.dataset.to = to;
  const body = $('#log tbody');
  body.prepend(row);
  while (body.rows.length > LOG_ROWS) body.lastElementChild.remove();
}

const handlers = {
  clock: (message) => {
    skew = message.now - Date.now();
  },
  monitor: ({ state }) => {
    $('#monitor-state').textContent = state;
    charts.then(() => highlight($('#chart-monitor'), state, 'current'));
  },
  proxy: ({ card }) => renderCard(card),
  removed: ({ id }) => {
    cards.get(id)?.element.remove();
    cards.delete(id);
    highlightOccupied();
  },
  transition: logTransition,
};

const events = new EventSource('/inspect/events');
// Each connection starts with every current card: drop the old ones, a proxy may have gone meanwhile.
events.addEventListener('open', () => {
  $('#connection').textContent = 'live';
  $('#connection').className = 'live';
  for (const { element } of cards.values()) element.remove();
  cards.clear();
});
events.addEventListener('error', () => {
  $('#connection').textContent = 'reconnecting';
  $('#connection').className = 'offline';
});
events.addEventListener('message', (message) => {
  const data = JSON.parse(message.data);
  handlers[data.type]?.(data);
});

setInterval(() => {
  for (const card of cards.values()) if (card.data) renderTimes(card);
}, 1000);
