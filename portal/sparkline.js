// Owns the domain list's 24-hour activity sparklines: messages accepted per hour for a page of
// domains from one GET /api/v1/usage?granularity=hour&domains=..., drawn as a small inline SVG.
// Fails soft: without data a domain's line is flat at zero; the label always says the total.
import { api, utcDay } from '/portal/assets/api.js';

const kHours = 24;
const kWidth = 72;
const kHeight = 18;
const kSvg = 'http://www.w3.org/2000/svg';

// name -> [24 counts, oldest hour first, ending with the current UTC hour].
export async function activity24h(names) {
  const out = new Map(names.map((n) => [n, new Array(kHours).fill(0)]));
  if (!names.length) return out;
  const now = new Date();
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(),
    now.getUTCHours());
  const start = end - (kHours - 1) * 3600000;
  const q = new URLSearchParams({ granularity: 'hour', from: utcDay(new Date(start)),
    to: utcDay(new Date(end)), domains: names.join(',') });
  const r = await api('GET', `/api/v1/usage?${q}`);
  if (r.status !== 200) return out;
  for (const d of r.json.domains || []) {
    const values = out.get(d.domain);
    if (!values) continue;
    for (const h of d.hours || []) {
      const i = Math.round((Date.parse(h.hour) - start) / 3600000);
      if (i >= 0 && i < kHours) values[i] += h.accepted || 0;
    }
  }
  return out;
}

// An <svg> line of `values`, scaled to its own maximum, labelled with the total.
export function sparkline(values) {
  const total = values.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...values);
  const step = kWidth / (values.length - 1);
  const points = values.map((v, i) =>
    `${(i * step).toFixed(1)},${(kHeight - 1 - (v / max) * (kHeight - 2)).toFixed(1)}`).join(' ');
  const svg = document.createElementNS(kSvg, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('width', String(kWidth));
  svg.setAttribute('height', String(kHeight));
  svg.setAttribute('viewBox', `0 0 ${kWidth} ${kHeight}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${total} accepted in the last 24 hours`);
  svg.dataset.total = String(total);
  const title = document.createElementNS(kSvg, 'title');
  title.textContent = `${total} accepted in the last 24 hours`;
  const line = document.createElementNS(kSvg, 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  svg.append(title, line);
  return svg;
}
