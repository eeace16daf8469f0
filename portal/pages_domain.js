// Owns a domain's page: status and whole-queue actions, the queued messages (hold, release,
// delete, details with headers), settings with the API's field errors, the 30-day traffic chart,
// the alert history and the DNS records to publish.
// Fails soft: API errors are shown where the action was made; nothing is retried silently.
import { age, api, el, fieldError, row, show, state, table, when } from '/portal/assets/api.js';
import { usageChart } from '/portal/assets/chart.js';

function queueSection(name, path, onChange) {
  const status = el('p', { id: 'status' });
  const msg = el('p', { role: 'status', id: 'action-result' });
  let last = '';
  const paint = (st) => {
    const q = st.queue || {};
    status.textContent = `${st.up ? 'Up' : 'Down'} since ${when(st.since)} · ${q.depth || 0} queued` +
      ` (${q.held || 0} held), oldest ${age(q.oldest_age_s)}`;
    const key = `${q.depth}/${q.held}`;
    if (last && key !== last) onChange();
    last = key;
  };
  const refresh = async () => {
    const st = await api('GET', `${path}/status`);
    if (st.status === 200) paint(st.json);
  };
  const act = (action) => async () => {
    const r = await api('POST', `${path}/${action}`);
    msg.textContent = r.status < 300 ? `${action}: done` : (r.json.error || `${action} failed`);
    await refresh();
    onChange();
  };
  const section = el('section', { class: 'card', 'aria-labelledby': 'queue-h' },
    el('h2', { id: 'queue-h', text: 'Queue' }), status,
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: act('flush'), text: 'Flush' }),
      el('button', { type: 'button', onclick: act('hold'), text: 'Hold' }),
      el('button', { type: 'button', onclick: act('release'), text: 'Release' })), msg);
  return { section, paint, refresh };
}

function detailsView(box, doc) {
  const m = doc.message || {};
  const rcpts = (m.recipients || []).map((r) => `${r.address} (${r.state})`).join(', ');
  const dl = el('dl', { class: 'kv' });
  const add = (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: v || '—' }));
  add('ID', m.id);
  add('Arrived', when(m.arrival));
  add('From', m.sender || '<>');
  add('Recipients', rcpts);
  add('Size', `${m.size || 0} bytes`);
  add('Next attempt', when(m.next_attempt));
  add('Last error', m.last_error);
  add('Client', m.client_ip ? `${m.client_ip} (${m.helo || ''})` : '');
  const headers = el('pre', { class: 'headers', tabindex: '0', 'aria-label': 'Message headers' });
  headers.textContent = (doc.headers || []).map(([k, v]) => `${k}: ${v}`).join('\n') ||
    doc.headers_error || '(no headers)';
  box.textContent = '';
  box.append(el('h3', { text: `Message ${m.id}` }), dl, el('h4', { text: 'Headers' }), headers);
  box.hidden = false;
  box.focus();
}

function messagesSection(name) {
  const body = el('div', { id: 'messages' });
  const result = el('p', { role: 'status', id: 'message-result' });
  const details = el('div', { id: 'message-details', class: 'details', tabindex: '-1',
    hidden: true });
  const load = async () => {
    const r = await api('GET', `/api/v1/queue?${new URLSearchParams({ domain: name, limit: '50' })}`);
    body.textContent = '';
    if (r.status !== 200) { body.append(el('p', { class: 'error', text: r.json.error })); return; }
    const msgs = r.json.messages || [];
    if (!msgs.length) { body.append(el('p', { text: 'No queued messages.' })); return; }
    const now = Date.now();
    const rows = msgs.map((m) => {
      const id = m.id;
      const act = (method, suffix, label) => async () => {
        if (method === 'DELETE' && !window.confirm(`Delete message ${id}? It cannot be undone.`))
          return;
        const r2 = await api(method, `/api/v1/queue/${id}${suffix}`);
        result.textContent = r2.status < 300 ? `${label} ${id}: done`
          : (r2.json.error || `${label} failed (${r2.status})`);
        load();
      };
      const open = async () => {
        const d = await api('GET', `/api/v1/queue/${id}`);
        if (d.status === 200) detailsView(details, d.json);
        else result.textContent = d.json.error || `details failed (${d.status})`;
      };
      const toggle = m.held
        ? el('button', { type: 'button', 'aria-label': `Release message ${id}`, text: 'Release',
          onclick: act('POST', '/release', 'release') })
        : el('button', { type: 'button', 'aria-label': `Hold message ${id}`, text: 'Hold',
          onclick: act('POST', '/hold', 'hold') });
      const actions = el('div', { class: 'actions' },
        el('button', { type: 'button', 'aria-label': `Details of message ${id}`, text: 'Details',
          onclick: open }), toggle,
        el('button', { type: 'button', 'aria-label': `Delete message ${id}`, text: 'Delete',
          onclick: act('DELETE', '', 'delete') }));
      const arrived = Date.parse(m.arrival);
      return row(id, m.sender || '<>', isNaN(arrived) ? '—' : age(Math.round((now - arrived) / 1000)),
        m.attempts || 0, m.held ? `held · ${m.last_error || ''}` : m.last_error, actions);
    });
    body.append(table('Queued messages',
      ['ID', 'From', 'Age', 'Attempts', 'Last error', 'Actions'], rows));
  };
  const section = el('section', { class: 'card', 'aria-labelledby': 'messages-h' },
    el('h2', { id: 'messages-h', text: 'Queued messages' }), body, result, details);
  return { section, load };
}

function settingsForm(path, dom) {
  const filtering = el('input', { id: 'filtering', type: 'checkbox', checked: !!dom.filtering });
  const tag = el('input', { id: 'tag_score', type: 'number', step: '0.1',
    value: String(dom.spam.tag_score), 'aria-describedby': 'tag_score-error' });
  const reject = el('input', { id: 'reject_score', type: 'number', step: '0.1',
    value: String(dom.spam.reject_score), 'aria-describedby': 'reject_score-error' });
  const errs = { 'spam.tag_score': fieldError('tag_score-error'),
    'spam.reject_score': fieldError('reject_score-error'), filtering: fieldError('filtering-error') };
  const saved = el('p', { role: 'status', id: 'settings-result' });
  let version = dom.version;
  return el('form', { class: 'card', 'aria-labelledby': 'settings-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      Object.values(errs).forEach((e) => { e.textContent = ''; });
      saved.textContent = '';
      const r = await api('PATCH', path, { version, filtering: filtering.checked,
        spam: { tag_score: Number(tag.value), reject_score: Number(reject.value) } });
      if (r.status === 200) { version = r.json.version; saved.textContent = 'Saved.'; return; }
      const target = errs[r.json.field];
      if (target) target.textContent = r.json.error; else saved.textContent = r.json.error;
    } },
  el('h2', { id: 'settings-h', text: 'Settings' }),
  el('label', { for: 'filtering' }, filtering, ' Premium filtering (spam and virus scanning)'),
  errs.filtering,
  el('label', { for: 'tag_score', text: 'Tag as spam at score' }), tag, errs['spam.tag_score'],
  el('label', { for: 'reject_score', text: 'Reject at score' }), reject, errs['spam.reject_score'],
  el('p', {}, el('button', { type: 'submit', class: 'primary', text: 'Save settings' })), saved);
}

export function alertRows(alerts) {
  return alerts.map((a) => {
    const sent = (a.deliveries || []).map((d) => `${d.channel} ${d.to}: ${d.state}`).join('; ');
    return row(when(a.at), a.event, a.domain, a.error || (a.outage_seconds
      ? `outage ${age(a.outage_seconds)}, ${a.delivered || 0} delivered` : ''), sent);
  });
}

async function alertsSection(name) {
  const r = await api('GET', `/api/v1/alerts?${new URLSearchParams({ domain: name, limit: '20' })}`);
  const alerts = r.json.alerts || [];
  const content = r.status !== 200 ? el('p', { class: 'error', text: r.json.error })
    : alerts.length ? table('Alert history', ['When', 'Event', 'Domain', 'Detail', 'Sent to'],
      alertRows(alerts)) : el('p', { text: 'No alerts.' });
  return el('section', { class: 'card', 'aria-labelledby': 'alerts-h' },
    el('h2', { id: 'alerts-h', text: 'Alert history' }), content);
}

function dnsSection(dom) {
  const dns = el('section', { class: 'card dns', 'aria-labelledby': 'dns-h' },
    el('h2', { id: 'dns-h', text: 'DNS' }),
    el('p', {}, 'Publish this MX record for ', el('code', { text: dom.name }), ':'),
    el('p', {}, el('code', { text: `${dom.name}. IN MX 10 ${state.mx_host}.` })));
  if (dom.verification) {
    dns.append(el('p', {}, 'and, to verify the domain, this TXT record:'),
      el('p', {}, el('code', { text: `${dom.verification.record}. IN TXT "${dom.verification.value}"` })));
  }
  return dns;
}

export async function domainView(name) {
  const path = `/api/v1/domains/${encodeURIComponent(name)}`;
  const [d, s] = await Promise.all([api('GET', path), api('GET', `${path}/status`)]);
  if (d.status !== 200) {
    show(name, el('p', { class: 'error', role: 'alert', text: d.json.error || 'not found' }));
    return;
  }
  const dom = d.json;
  const messages = messagesSection(name);
  const queue = queueSection(name, path, messages.load);
  queue.paint(s.json);
  const [chart, alerts] = await Promise.all([usageChart(name), alertsSection(name), messages.load()]);
  show(name, queue.section, messages.section, settingsForm(path, dom), chart.section, alerts,
    dnsSection(dom));
  chart.draw();
  state.timer = setInterval(queue.refresh, 5000);  // live status and queue depth
}
