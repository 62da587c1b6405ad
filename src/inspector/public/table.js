// The proxies table: one row per proxy, sortable by every column (problems first by default),
// filtered by state and searched by id or type. Only the rows in view exist in the page (a pool of
// row elements moved as it scrolls), so 1,000 proxies cost what 40 do.
import {
  checkText,
  crashText,
  isProblem,
  monitoringText,
  ms,
  naturally,
  nextText,
  now,
  severity,
  stateParts,
  SYMBOL,
  uptimeText,
} from './format.js';

const ROW_H = 28;
/** Rows rendered above and below the visible ones, so a fast scroll shows no gap. */
const OVERSCAN = 8;

const byNumber = (value) => (a, b) => value(a) - value(b);
const COLUMNS = [
  { key: 'id', label: 'proxy', text: (c) => c.id, compare: (a, b) => naturally(a.id, b.id) },
  { key: 'type', label: 'type', text: (c) => c.type, compare: (a, b) => naturally(a.type, b.type) },
  { key: 'state', label: 'state', compare: (a, b) => severity(a) - severity(b) },
  { key: 'pid', label: 'pid', text: (c) => String(c.pid ?? '-'), compare: byNumber((c) => c.pid ?? -1) },
  { key: 'uptime', label: 'uptime', text: uptimeText, compare: byNumber((c) => -(ms(c.started_at) ?? Infinity)) },
  {
    key: 'restarts',
    label: 'restarts',
    title: 'automatic restart attempts in the last hour / max_restarts',
    text: (c) => `${c.restarts_in_window} / ${c.max_restarts}`,
    compare: byNumber((c) => -c.restarts_in_window / c.max_restarts),
  },
  {
    key: 'crash',
    label: 'last crash',
    title: 'signal or exit code of the last crash since the daemon started',
    text: (c) => crashText(c.last_crash),
    compare: byNumber((c) => -(ms(c.last_crash?.time) ?? 0)),
  },
  {
    key: 'check',
    label: 'last check',
    text: checkText,
    compare: byNumber((c) => -(c.check_failures + (c.last_check?.ok === false ? 1 : 0))),
  },
  {
    key: 'next',
    label: 'next attempt',
    title: 'when a crashed proxy is tried again, or until when its cooldown lasts',
    text: nextText,
    compare: byNumber((c) => ms(c.next_attempt_at) ?? ms(c.cooldown_ends_at) ?? Infinity),
  },
  { key: 'monitoring', label: 'monitoring', text: monitoringText, compare: (a, b) => monitoringText(a).localeCompare(monitoringText(b)) },
];

/** `cards`: the page's Map of id -> card, read on every change. */
export function createTable(root, cards, { onOpen }) {
  const head = root.querySelector('.head');
  const viewport = root.querySelector('.viewport');
  const spacer = root.querySelector('.spacer');
  const shown = document.getElementById('shown');
  let order = [];
  let sort = { key: 'state', dir: 1 };
  let filter = 'all';
  let query = '';
  let activeId = null;
  let selectedId = null;
  let stale = true;
  // biome-ignore lint/correctness/noUnusedVariables: read by `frame ||= ...` in schedule()
  let frame = 0;
  const pool = [];

  for (const column of COLUMNS) {
    const cell = document.createElement('div');
    cell.setAttribute('role', 'columnheader');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.sort = column.key;
    button.textContent = column.label;
    button.title = column.title ?? `sort by ${column.label}`;
    button.addEventListener('click', () => {
      sort = sort.key === column.key ? { key: column.key, dir: -sort.dir } : { key: column.key, dir: 1 };
      changed();
    });
    cell.append(button);
    head.append(cell);
  }

  const matches = (card, at) =>
    (filter === 'all' || (filter === 'problems' ? isProblem(card, at) : card.phase === filter)) &&
    (!query || card.id.toLowerCase().includes(query) || card.type.toLowerCase().includes(query));

  function reorder() {
    const at = now();
    const column = COLUMNS.find((c) => c.key === sort.key);
    order = [...cards.values()].filter((card) => matches(card, at));
    order.sort((a, b) => sort.dir * column.compare(a, b) || naturally(a.id, b.id));
    stale = false;
    spacer.style.height = `${order.length * ROW_H}px`;
    shown.textContent = `${order.length} of ${cards.size} shown`;
    for (const cell of head.children) {
      const key = cell.firstChild.dataset.sort;
      cell.setAttribute('aria-sort', key === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    }
    root.setAttribute('aria-rowcount', String(order.length + 1));
  }

  function makeRow() {
    const row = document.createElement('div');
    row.className = 'row';
    row.setAttribute('role', 'row');
    row.id = `row-${pool.length}`;
    row.cells = COLUMNS.map((column) => {
      const cell = document.createElement('div');
      cell.setAttribute('role', 'gridcell');
      cell.className = `col-${column.key}`;
      row.append(cell);
      return cell;
    });
    row.addEventListener('click', () => open(row.dataset.id));
    spacer.append(row);
    pool.push(row);
    return row;
  }

  /** Writes only what changed: most ticks change a few characters in a few rows. */
  const set = (cell, text) => {
    if (cell.textContent !== text) cell.textContent = text;
  };

  function fill(row, card, index) {
    row.dataset.id = card.id;
    row.dataset.phase = card.phase;
    row.style.transform = `translateY(${index * ROW_H}px)`;
    row.setAttribute('aria-rowindex', String(index + 2));
    row.setAttribute('aria-selected', String(card.id === selectedId));
    row.classList.toggle('active', card.id === activeId);
    row.classList.toggle('problem', isProblem(card));
    COLUMNS.forEach((column, i) => {
      if (column.key !== 'state') {
        set(row.cells[i], column.text(card));
        return;
      }
      const [phase, sub] = stateParts(card);
      const label = `${SYMBOL[phase] ?? ''} ${phase}${sub ? ` · ${sub}` : ''}`;
      if (row.cells[i].dataset.label === label) return;
      row.cells[i].dataset.label = label;
      const badge = document.createElement('span');
      badge.className = `badge phase-${phase}`;
      badge.textContent = label;
      row.cells[i].replaceChildren(badge);
    });
    const check = row.cells[COLUMNS.findIndex((c) => c.key === 'check')];
    check.title = card.last_check?.error ?? '';
  }

  function render() {
    frame = 0;
    if (stale) reorder();
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(order.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_H) + OVERSCAN);
    while (pool.length < last - first) makeRow();
    pool.forEach((row, i) => {
      const card = order[first + i];
      row.hidden = !card || first + i >= last;
      if (!row.hidden) fill(row, card, first + i);
    });
    const active = pool.find((row) => !row.hidden && row.dataset.id === activeId);
    if (active) root.setAttribute('aria-activedescendant', active.id);
    else root.removeAttribute('aria-activedescendant');
  }

  const schedule = () => {
    frame ||= requestAnimationFrame(render);
  };
  /** The cards changed: sort and filter again, at the next frame. */
  function changed() {
    stale = true;
    schedule();
  }

  function open(id) {
    activeId = id;
    selectedId = id;
    schedule();
    onOpen(id);
  }

  /** Keyboard: arrows, Page Up/Down, Home/End move; Enter or Space opens. */
  function move(to) {
    if (!order.length) return;
    const index = Math.max(0, Math.min(order.length - 1, to));
    activeId = order[index].id;
    const top = index * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_H - viewport.clientHeight;
    schedule();
  }
  const page = () => Math.max(1, Math.floor(viewport.clientHeight / ROW_H) - 1);
  root.addEventListener('keydown', (event) => {
    // The column headers are buttons inside the grid: their own keys sort.
    if (event.target !== root) return;
    const index = order.findIndex((card) => card.id === activeId);
    const keys = {
      ArrowDown: () => move(index + 1),
      ArrowUp: () => move(index - 1),
      PageDown: () => move(index + page()),
      PageUp: () => move(index - page()),
      Home: () => move(0),
      End: () => move(order.length - 1),
      Enter: () => activeId && open(activeId),
      ' ': () => activeId && open(activeId),
    };
    if (!keys[event.key]) return;
    event.preventDefault();
    keys[event.key]();
  });
  root.addEventListener('focus', () => {
    if (activeId === null && order.length) move(0);
  });
  viewport.addEventListener('scroll', schedule, { passive: true });
  new ResizeObserver(schedule).observe(viewport);

  return {
    changed,
    /** Time passed: the relative times and the problem ranks move. */
    tick: changed,
    get filter() {
      return filter;
    },
    setFilter(next) {
      filter = next;
      viewport.scrollTop = 0;
      changed();
    },
    setQuery(text) {
      query = text.trim().toLowerCase();
      viewport.scrollTop = 0;
      changed();
    },
    /** The rows as shown, for the timeline. */
    order: () => {
      if (stale) reorder();
      return order;
    },
    select(id) {
      selectedId = id;
      schedule();
    },
  };
}
