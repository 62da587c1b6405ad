// The fleet timeline: one strip per proxy of its states over the last hour, from the daemon's stored
// history (GET /timeline), in the table's order and filter. One canvas for every strip: a storm is a
// vertical band, a flapping proxy a dashed strip. Shapes differ as well as colours: running is a thin
// line, crashed a full hatched bar, restarting a full bar, stopped an outline.
import { API } from './paths.js';

const STRIP_H = 14;
const LABEL_W = 120;
const REFRESH_MS = 10_000;

const COLOURS = { running: '#2da44e', crashed: '#cf222e', restarting: '#bf8700', stopped: '#6e7781', unknown: '#8c959f' };

export function createTimeline({ order, onOpen }) {
  const canvas = document.getElementById('timeline');
  const status = document.getElementById('timeline-status');
  let data = null;
  let rows = [];
  let timer = 0;
  let visible = false;

  async function load() {
    clearTimeout(timer);
    if (!visible) return;
    try {
      const reply = await fetch(`${API}/timeline?since=1h`);
      const body = await reply.json();
      if (!reply.ok) throw new Error(body.message ?? reply.statusText);
      data = {
        since: Date.parse(body.since),
        until: Date.parse(body.until),
        proxies: new Map(body.proxies.map((p) => [p.id, p.segments])),
      };
      draw();
      status.textContent = `last hour to ${body.until.slice(11, 19)} UTC${body.truncated ? ' (oldest restarts left out)' : ''}; click a strip for its details`;
    } catch (error) {
      status.textContent = `timeline: ${error.message}`;
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  function draw() {
    if (!data) return;
    rows = order().filter((card) => data.proxies.has(card.id));
    const width = canvas.parentElement.clientWidth;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = (rows.length * STRIP_H + 20) * ratio;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${rows.length * STRIP_H + 20}px`;
    const g = canvas.getContext('2d');
    g.scale(ratio, ratio);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    const span = data.until - data.since;
    const x = (t) => LABEL_W + ((t - data.since) / span) * (width - LABEL_W - 4);
    // Minutes along the top.
    g.fillStyle = '#57606a';
    for (let m = 0; m <= 60; m += 10) {
      const at = x(data.until - (60 - m) * 60_000);
      g.fillText(m === 60 ? 'now' : `-${60 - m}m`, at - 10, 8);
      g.fillRect(at, 14, 1, rows.length * STRIP_H + 6);
    }
    rows.forEach((card, i) => {
      const y = 20 + i * STRIP_H;
      g.fillStyle = '#24292f';
      g.fillText(card.id, 4, y + STRIP_H / 2, LABEL_W - 8);
      for (const segment of data.proxies.get(card.id)) {
        if (segment.state === 'none') continue;
        const [from, to] = [x(Date.parse(segment.from)), x(Date.parse(segment.to))];
        const w = Math.max(2, to - from);
        const colour = COLOURS[segment.state];
        if (segment.state === 'running') {
          g.fillStyle = colour;
          g.fillRect(from, y + STRIP_H / 2 - 1, w, 3);
        } else if (segment.state === 'stopped') {
          g.strokeStyle = colour;
          g.strokeRect(from + 0.5, y + 2.5, w - 1, STRIP_H - 5);
        } else {
          g.fillStyle = colour;
          g.fillRect(from, y + 1, w, STRIP_H - 2);
          if (segment.state === 'crashed') hatch(g, from, y + 1, w, STRIP_H - 2);
        }
      }
    });
  }

  function hatch(g, x, y, w, h) {
    g.save();
    g.beginPath();
    g.rect(x, y, w, h);
    g.clip();
    g.strokeStyle = '#ffffff';
    for (let i = -h; i < w; i += 5) {
      g.moveTo(x + i, y + h);
      g.lineTo(x + i + h, y);
    }
    g.stroke();
    g.restore();
  }

  canvas.addEventListener('click', (event) => {
    const box = canvas.getBoundingClientRect();
    const row = rows[Math.floor((event.clientY - box.top - 20) / STRIP_H)];
    if (row) onOpen(row.id);
  });

  return {
    show() {
      visible = true;
      load();
    },
    hide() {
      visible = false;
      clearTimeout(timer);
    },
    /** The table's order or filter changed. */
    redraw: () => visible && draw(),
  };
}
