// Owns the record pages: the audit log (newest first, paged), usage per domain per day for a
// date range with its CSV download, and the alert history of every domain the account sees.
// Fails soft: an API error (bad date, scope) is shown on the page, next to the field it names.
import { api, el, errorPage, field, row, show, showError, table, utcDay, when }
  from '/portal/assets/api.js';
import { alertRows } from '/portal/assets/pages_domain.js';

const kPage = 50;

function changes(c) {
  if (!c || typeof c !== 'object') return '';
  const s = JSON.stringify(c);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

// One page of the audit log, newest first (`order=newest`, `before` = the previous page's
// `next`); "Newer" goes back through the cursors seen on the way (kept in the URL).
export async function auditView(params) {
  const trail = (params.get('trail') || '').split(',').filter((x) => /^\d+$/.test(x));
  const before = trail.length ? trail[trail.length - 1] : '';
  const q = new URLSearchParams({ order: 'newest', limit: String(kPage) });
  if (before) q.set('before', before);
  const r = await api('GET', `/api/v1/audit?${q}`);
  if (r.status !== 200) return errorPage('Audit log', r);
  const entries = r.json.entries || [];
  const rows = entries.map((e) => row(String(e.seq), when(e.at), e.action, e.object,
    `${(e.actor || {}).account || ''} (${(e.actor || {}).token || ''})`, e.client_ip,
    changes(e.changes)));
  const pager = el('div', { class: 'pager' });
  if (trail.length) {
    pager.append(el('a', { href: `#/audit?trail=${trail.slice(0, -1).join(',')}`,
      text: 'Newer' }));
  }
  if (r.json.next !== null && r.json.next !== undefined) {
    pager.append(el('a', { href: `#/audit?trail=${[...trail, r.json.next].join(',')}`,
      text: 'Older' }));
  }
  show('Audit log', rows.length ? table('Audit log',
    ['Seq', 'When', 'Action', 'Object', 'By', 'From', 'Changes'], rows)
    : el('p', { text: 'No entries.' }), pager);
}

export async function usageView(params) {
  const today = new Date();
  const to = params.get('to') || utcDay(today);
  const from = params.get('from') || utcDay(new Date(today.getTime() - 29 * 86400000));
  const fFrom = field('usage-from', 'From (UTC day)', { type: 'date', value: from });
  const fTo = field('usage-to', 'To (UTC day)', { type: 'date', value: to });
  const result = el('p', { id: 'usage-result', role: 'status' });
  const q = new URLSearchParams({ from, to });
  const r = await api('GET', `/api/v1/usage?${q}`);
  if (r.status !== 200) showError(r, { from: fFrom, to: fTo }, result);
  const rows = [];
  for (const d of r.json.domains || []) {
    for (const day of d.days || []) {
      rows.push(row(day.day, d.domain, day.accepted, day.delivered, day.deferred,
        day.rejected_spam, day.rejected_virus, day.bytes, day.filtering ? 'yes' : 'no'));
    }
  }
  rows.sort((a, b) => a.cells[0].textContent.localeCompare(b.cells[0].textContent) ||
    a.cells[1].textContent.localeCompare(b.cells[1].textContent));
  const csv = `/api/v1/usage?${new URLSearchParams({ from, to, format: 'csv' })}`;
  const form = el('form', { class: 'card range', 'aria-labelledby': 'range-h', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/usage?${new URLSearchParams({ from: fFrom.input.value,
      to: fTo.input.value })}`;
  } }, el('h2', { id: 'range-h', text: 'Date range' }), fFrom.wrap, fTo.wrap,
  el('p', {}, el('button', { type: 'submit', class: 'primary', text: 'Show' })), result);
  const billing = (r.json.resellers || []).map((x) => row(x.name || x.reseller,
    x.active_domain_days, x.filtering_domain_days));
  show('Usage', form,
    el('p', {}, el('a', { id: 'usage-csv', href: csv, download: `usage-${from}-${to}.csv`,
      text: 'Download CSV' })),
    rows.length ? table('Usage per domain per day', ['Day', 'Domain', 'Accepted', 'Delivered',
      'Deferred', 'Spam rejected', 'Virus rejected', 'Bytes', 'Filtering'], rows)
      : el('p', { text: 'No traffic in this range.' }),
    billing.length ? el('h2', { text: 'Domain-days (billing)' }) : null,
    billing.length ? table('Domain-days per account', ['Account', 'Active domain-days',
      'Filtering domain-days'], billing) : null);
}

export async function alertsView(params) {
  const before = params.get('before') || '';
  const q = new URLSearchParams({ limit: String(kPage) });
  if (before) q.set('before', before);
  const r = await api('GET', `/api/v1/alerts?${q}`);
  if (r.status !== 200) return errorPage('Alerts', r);
  const alerts = r.json.alerts || [];
  const pager = el('div', { class: 'pager' });
  if (before) pager.append(el('a', { href: '#/alerts', text: 'Newest' }));
  if (r.json.next) {
    pager.append(el('a', { href: `#/alerts?before=${encodeURIComponent(r.json.next)}`,
      text: 'Older' }));
  }
  show('Alerts', alerts.length ? table('Alerts', ['When', 'Event', 'Domain', 'Detail', 'Sent to'],
    alertRows(alerts)) : el('p', { text: 'No alerts.' }), pager);
}
