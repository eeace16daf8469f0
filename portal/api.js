// Owns the portal's shared plumbing: session state, the same-origin API call (CSRF header on
// writes), element building, times in the viewer's zone, forms with labelled fields and errors.
// Fails soft: an API error is returned as {status, json.error}; nothing here throws.
export const state = { csrf: '', principal: null, brand: null, mx_host: '', timer: 0 };
export const $ = (sel) => document.querySelector(sel);
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  if (res.status === 401 && path !== '/portal/session') onUnauthorized();
  return { status: res.status, json: json || {} };
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();  // the viewer's own time zone
}

export function age(seconds) {
  if (!seconds) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

export function show(title, ...nodes) {
  clearInterval(state.timer);
  const m = $('#main');
  m.textContent = '';
  m.append(el('h1', { text: title }), ...nodes.filter((n) => n));
  document.title = `${title} · ${state.brand ? state.brand.product_name : ''}`;
}

export function fieldError(id) { return el('p', { id, class: 'field-error', role: 'alert' }); }

// A labelled input (or select) with its error line: {wrap, input, error}.
export function field(id, label, attrs = {}, options = null) {
  const error = fieldError(`${id}-error`);
  const props = { id, name: id, 'aria-describedby': `${id}-error`, ...attrs };
  const input = options
    ? el('select', props, ...options.map(([v, t]) => el('option', { value: v, text: t })))
    : el('input', { type: 'text', ...props });
  return { wrap: el('div', { class: 'field' }, el('label', { for: id, text: label }), input, error),
    input, error };
}

// Shows an API error next to its field (`field` in the JSON error), else in `fallback`.
export function showError(r, fields, fallback) {
  for (const f of Object.values(fields)) f.error.textContent = '';
  const name = r.json.field || '';
  const target = fields[name] || fields[name.replace(/\[\d+\]$/, '')] ||
    fields[name.replace(/\[\d+\]\..*$/, '')];
  const text = r.json.error || `request failed (${r.status})`;
  if (target) target.error.textContent = text;
  else fallback.textContent = text;
}

// A table in a horizontally scrolling wrapper (the page itself never scrolls sideways).
export function table(caption, heads, rows) {
  return el('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
    el('table', {}, el('caption', { class: 'skip', text: caption }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...rows)));
}

export function row(...cells) {
  return el('tr', {}, ...cells.map((c) => (c instanceof Node ? el('td', {}, c)
    : el('td', { text: c === undefined || c === null ? '—' : String(c) }))));
}

export function errorPage(title, r) {
  show(title, el('p', { class: 'error', role: 'alert',
    text: r.json.error || `request failed (${r.status})` }));
}

export const isOperator = () => !!state.principal && state.principal.kind === 'operator';
export const isCustomer = () => !!state.principal && state.principal.kind === 'customer';

// YYYY-MM-DD in UTC (usage days are UTC days).
export function utcDay(d) { return d.toISOString().slice(0, 10); }
