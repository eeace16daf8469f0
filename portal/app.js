// The portal's single-page app: sign in, domains (status, queue, search, paging, live refresh),
// a domain (queue actions, settings with the API's field errors, DNS records). Everything comes
// from the same origin's API with the session cookie; every write carries the CSRF token.
const state = { csrf: '', principal: null, brand: null, mx_host: '', timer: 0 };
const $ = (sel) => document.querySelector(sel);
const main = () => $('#main');

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  if (res.status === 401 && path !== '/portal/session') { signedOut(); }
  return { status: res.status, json: json || {} };
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();  // the viewer's own time zone
}

function age(seconds) {
  if (!seconds) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function applyBrand(b) {
  if (!b) return;
  state.brand = b;
  document.title = b.product_name;
  $('#product').textContent = b.product_name;
  document.documentElement.style.setProperty('--primary', b.primary_color);
  const logo = $('#logo');
  const local = b.logo_url && (b.logo_url.startsWith('data:image/') || b.logo_url.startsWith('/'));
  logo.hidden = !local;
  if (local) { logo.src = b.logo_url; logo.alt = `${b.product_name} logo`; }
  let icon = document.querySelector('link[rel=icon]');
  if (!icon) { icon = el('link', { rel: 'icon' }); document.head.append(icon); }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` +
    `<rect width="16" height="16" rx="3" fill="${b.primary_color}"/></svg>`;
  icon.href = 'data:image/svg+xml,' + encodeURIComponent(svg);
  const sup = $('#support');
  sup.textContent = '';
  if (b.support_email) {
    sup.append('Support: ', el('a', { href: `mailto:${b.support_email}`, text: b.support_email }));
  }
}

function signedIn(doc) {
  state.csrf = doc.csrf;
  state.principal = doc.principal;
  state.mx_host = doc.mx_host;
  applyBrand(doc.brand);
  $('#nav').hidden = false;
  $('#signout').hidden = false;
  $('#who').textContent = `${doc.principal.kind} ${doc.principal.account}`;
}

function signedOut() {
  state.csrf = '';
  state.principal = null;
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#who').textContent = '';
  if (location.hash !== '#/signin') location.hash = '#/signin';
  else route();
}

function show(title, ...nodes) {
  clearInterval(state.timer);
  const m = main();
  m.textContent = '';
  m.append(el('h1', { text: title }), ...nodes);
  document.title = `${title} · ${state.brand ? state.brand.product_name : ''}`;
}

function signInView() {
  const err = el('p', { id: 'token-error', class: 'field-error', role: 'alert' });
  const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, 'aria-describedby': 'token-error' });
  const form = el('form', { class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const r = await api('POST', '/portal/session', { token: input.value });
    if (r.status === 200) { signedIn(r.json); location.hash = '#/domains'; return; }
    err.textContent = r.json.error || `sign-in failed (${r.status})`;
    input.focus();
  } }, el('label', { for: 'token', text: 'Access token' }), input, err,
  el('p', {}, el('button', { type: 'submit', class: 'primary', text: 'Sign in' })));
  show('Sign in', form);
  input.focus();
}

async function statusCells(name, tr) {
  const r = await api('GET', `/api/v1/domains/${encodeURIComponent(name)}/status`);
  if (r.status !== 200) return;
  const s = r.json;
  const q = s.queue || {};
  const cells = tr.querySelectorAll('td');
  cells[1].textContent = s.up ? 'up' : 'down';
  cells[1].className = s.up ? 'up' : 'down';
  cells[2].textContent = when(s.since);
  cells[3].textContent = String(q.depth || 0);
  cells[4].textContent = age(q.oldest_age_s);
}

async function domainsView(params) {
  const search = params.get('search') || '';
  const after = params.get('after') || '';
  const q = new URLSearchParams({ limit: '25' });
  if (search) q.set('search', search);
  if (after) q.set('after', after);
  const r = await api('GET', `/api/v1/domains?${q}`);
  const box = el('input', { id: 'search', type: 'search', value: search });
  const form = el('form', { role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/domains?search=${encodeURIComponent(box.value.trim())}`;
  } }, el('label', { for: 'search', text: 'Search domains' }), box,
  el('p', {}, el('button', { type: 'submit', text: 'Search' })));
  const body = el('tbody');
  const rows = [];
  for (const d of r.json.domains || []) {
    const tr = el('tr', {},
      el('td', {}, el('a', { href: `#/domain/${encodeURIComponent(d.name)}`, text: d.name })),
      el('td', { text: '…' }), el('td', { class: 'hide-narrow', text: '' }),
      el('td', { text: '' }), el('td', { text: '' }));
    body.append(tr);
    rows.push([d.name, tr]);
  }
  const table = el('table', {}, el('caption', { class: 'skip', text: 'Domains' }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Domain' }),
      el('th', { scope: 'col', text: 'Status' }),
      el('th', { scope: 'col', class: 'hide-narrow', text: 'Since' }),
      el('th', { scope: 'col', text: 'Queued' }), el('th', { scope: 'col', text: 'Oldest' }))),
    body);
  const pager = el('div', { class: 'pager' });
  if (after) pager.append(el('a', { href: `#/domains?search=${encodeURIComponent(search)}`,
    text: 'First page' }));
  if (r.json.next) {
    pager.append(el('a', { href: `#/domains?search=${encodeURIComponent(search)}&after=${
      encodeURIComponent(r.json.next)}`, text: 'Next page' }));
  }
  const empty = rows.length ? '' : 'No domains.';
  show('Domains', form, table, el('p', { text: empty }), pager);
  const refresh = () => rows.forEach(([name, tr]) => statusCells(name, tr));
  refresh();
  state.timer = setInterval(refresh, 5000);  // live status and queue depth
}

function fieldError(id) { return el('p', { id, class: 'field-error', role: 'alert' }); }

async function domainView(name) {
  const path = `/api/v1/domains/${encodeURIComponent(name)}`;
  const [d, s] = await Promise.all([api('GET', path), api('GET', `${path}/status`)]);
  if (d.status !== 200) { show(name, el('p', { class: 'error', text: d.json.error || 'not found' })); return; }
  const dom = d.json;
  const status = el('p', { id: 'status' });
  const paint = (st) => {
    const q = st.queue || {};
    status.textContent = `${st.up ? 'Up' : 'Down'} since ${when(st.since)} · ${q.depth || 0} queued` +
      ` (${q.held || 0} held), oldest ${age(q.oldest_age_s)}`;
  };
  paint(s.json);
  const msg = el('p', { role: 'status', id: 'action-result' });
  const act = (action) => async () => {
    const r = await api('POST', `${path}/${action}`);
    msg.textContent = r.status < 300 ? `${action}: done` : (r.json.error || `${action} failed`);
    const st = await api('GET', `${path}/status`);
    if (st.status === 200) paint(st.json);
  };
  const queue = el('section', { class: 'card', 'aria-labelledby': 'queue-h' },
    el('h2', { id: 'queue-h', text: 'Queue' }), status,
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: act('flush'), text: 'Flush' }),
      el('button', { type: 'button', onclick: act('hold'), text: 'Hold' }),
      el('button', { type: 'button', onclick: act('release'), text: 'Release' })), msg);
  const filtering = el('input', { id: 'filtering', type: 'checkbox', checked: !!dom.filtering });
  const tag = el('input', { id: 'tag_score', type: 'number', step: '0.1',
    value: String(dom.spam.tag_score), 'aria-describedby': 'tag_score-error' });
  const reject = el('input', { id: 'reject_score', type: 'number', step: '0.1',
    value: String(dom.spam.reject_score), 'aria-describedby': 'reject_score-error' });
  const errs = { 'spam.tag_score': fieldError('tag_score-error'),
    'spam.reject_score': fieldError('reject_score-error'), filtering: fieldError('filtering-error') };
  const saved = el('p', { role: 'status', id: 'settings-result' });
  let version = dom.version;
  const settings = el('form', { class: 'card', 'aria-labelledby': 'settings-h',
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
  const dns = el('section', { class: 'card dns', 'aria-labelledby': 'dns-h' },
    el('h2', { id: 'dns-h', text: 'DNS' }),
    el('p', {}, 'Publish this MX record for ', el('code', { text: dom.name }), ':'),
    el('p', {}, el('code', { text: `${dom.name}. IN MX 10 ${state.mx_host}.` })));
  if (dom.verification) {
    dns.append(el('p', {}, 'and, to verify the domain, this TXT record:'),
      el('p', {}, el('code', { text: `${dom.verification.record}. IN TXT "${dom.verification.value}"` })));
  }
  show(name, queue, settings, dns);
  state.timer = setInterval(async () => {
    const st = await api('GET', `${path}/status`);
    if (st.status === 200) paint(st.json);
  }, 5000);
}

async function route() {
  const hash = location.hash || '#/domains';
  const [p, query] = hash.slice(1).split('?');
  if (!state.principal && p !== '/signin') {
    const r = await api('GET', '/portal/session');
    if (r.status !== 200) { location.hash = '#/signin'; return; }
    signedIn(r.json);
  }
  if (p === '/signin') return signInView();
  if (p.startsWith('/domain/')) return domainView(decodeURIComponent(p.slice(8)));
  return domainsView(new URLSearchParams(query || ''));
}

$('#signout').addEventListener('click', async () => {
  await api('DELETE', '/portal/session');
  signedOut();
});
window.addEventListener('hashchange', route);
try { applyBrand(JSON.parse($('#brand-data').textContent)); } catch (e) { /* keep the page */ }
route();
