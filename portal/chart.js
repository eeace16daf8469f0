// Owns the domain page's 30-day traffic chart: accepted, delivered and rejected per UTC day from
// GET /api/v1/usage, drawn by the vendored uPlot 1.6.31 (window.uPlot, portal/vendor/).
// Fails soft: without uPlot or data it says so in text; the figure element is always there.
import { api, el, utcDay } from '/portal/assets/api.js';

const kDays = 30;
const kSeries = [
  ['accepted', 'Accepted', '#1f6feb'],
  ['delivered', 'Delivered', '#1a7f37'],
  ['rejected', 'Rejected', '#cf222e'],
];

// Every day of the range, zero when the API has no row for it (it lists days with counts).
function series(usage, from) {
  const byDay = new Map();
  for (const d of ((usage.domains || [])[0] || {}).days || []) byDay.set(d.day, d);
  const xs = [];
  const ys = kSeries.map(() => []);
  let total = 0;
  for (let i = 0; i < kDays; ++i) {
    const day = new Date(from.getTime() + i * 86400000);
    const d = byDay.get(utcDay(day)) || {};
    const v = { accepted: d.accepted || 0, delivered: d.delivered || 0,
      rejected: (d.rejected_spam || 0) + (d.rejected_virus || 0) };
    xs.push(day.getTime() / 1000);
    kSeries.forEach(([k], j) => { ys[j].push(v[k]); total += v[k]; });
  }
  return { data: [xs, ...ys], total };
}

// The section (heading, figure, note); call draw() once it is in the document (uPlot measures).
export async function usageChart(domain) {
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()) -
    (kDays - 1) * 86400000);
  const q = new URLSearchParams({ domain, from: utcDay(from), to: utcDay(to) });
  const r = await api('GET', `/api/v1/usage?${q}`);
  const plot = el('div', { id: 'traffic-chart', class: 'chart', role: 'img' });
  const note = el('p', { id: 'traffic-note' });
  const section = el('section', { class: 'card', 'aria-labelledby': 'chart-h' },
    el('h2', { id: 'chart-h', text: 'Traffic, last 30 days' }),
    el('figure', {}, plot, el('figcaption', {}, note)));
  if (r.status !== 200) {
    note.textContent = r.json.error || `usage unavailable (${r.status})`;
    return { section, draw: () => {} };
  }
  const { data, total } = series(r.json, from);
  const sum = (j) => data[j + 1].reduce((a, b) => a + b, 0);
  plot.setAttribute('aria-label', `Messages per day from ${utcDay(from)} to ${utcDay(to)}: ` +
    kSeries.map(([, label], j) => `${label.toLowerCase()} ${sum(j)}`).join(', '));
  note.textContent = total ? `Per UTC day. ${kSeries.map(([, label], j) =>
    `${label}: ${sum(j)}`).join(' · ')}` : 'No traffic yet.';
  const draw = () => {
    if (!window.uPlot) { note.textContent += ' (chart library missing)'; return; }
    const width = Math.max(260, Math.min(plot.clientWidth || 600, 1000));
    // eslint-disable-next-line no-new
    new window.uPlot({
      width, height: 220, legend: { show: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
      axes: [{}, { size: 44 }],
      series: [{}, ...kSeries.map(([, label, stroke]) => ({ label, stroke, width: 2,
        points: { show: false } }))],
    }, data, plot);
  };
  return { section, draw };
}
