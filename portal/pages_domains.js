// Owns the Domains page: the list (status, since, queue depth, oldest, 24 h activity; search,
// paging, live refresh) and the "New domain" form (POST /api/v1/domains) with the API's errors at the field.
// Fails soft: an API error is shown on the page or next to the field it names.
import { age, api, el, field, isCustomer, isOperator, show, showError, state, when }
  from '/portal/assets/api.js';
import { activity24h, sparkline } from '/portal/assets/sparkline.js';

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

// The "Last 24 h" cells of the listed rows, from one usage request for the page.
async function activityCells() {
  const shown = rows.slice();
  const counts = await activity24h(shown.map(([n]) => n));
  for (const [n, tr] of shown) {
    const cell = tr.querySelectorAll('td')[5];
    if (cell) cell.replaceChildren(sparkline(counts.get(n)));
  }
}

// The form's customer choices: a reseller must name one; the operator may leave it empty.
async function customerOptions() {
  const r = await api('GET', '/api/v1/customers');
  const list = (r.json.customers || []).map((c) => [c.id, `${c.name} (${c.id})`]);
  return isOperator() ? [['', 'None (operator-owned)'], ...list] : list;
}

async function newDomainForm() {
  if (isCustomer()) return null;  // customers cannot create domains (403)
  const name = field('new-name', 'Domain name', { autocomplete: 'off', placeholder: 'shop.example' });
  const customer = field('new-customer', 'Customer', {}, await customerOptions());
  const dest = field('new-destination', 'Destination mail server',
    { autocomplete: 'off', placeholder: '[192.0.2.10]:25 or mail.shop.example' });
  const fields = { name, customer, destinations: dest };
  const result = el('p', { id: 'new-domain-result', role: 'status' });
  const form = el('form', { class: 'card', 'aria-labelledby': 'new-domain-h', onsubmit: async (ev) => {
    ev.preventDefault();
    result.textContent = '';
    const body = { name: name.input.value.trim(), destinations: [dest.input.value.trim()] };
    if (customer.input.value) body.customer = customer.input.value;
    const r = await api('POST', '/api/v1/domains', body);
    if (r.status === 201) {
      for (const f of Object.values(fields)) f.error.textContent = '';
      result.textContent = `Created ${r.json.name}.`;
      name.input.value = '';
      dest.input.value = '';
      refreshList();
      return;
    }
    showError(r, fields, result);
  } }, el('h2', { id: 'new-domain-h', text: 'New domain' }), name.wrap, customer.wrap, dest.wrap,
  el('p', {}, el('button', { type: 'submit', class: 'primary', text: 'Create domain' })), result);
  return form;
}

let listBox = null;
let listParams = new URLSearchParams();
let rows = [];

async function refreshList() {
  const search = listParams.get('search') || '';
  const after = listParams.get('after') || '';
  const q = new URLSearchParams({ limit: '25' });
  if (search) q.set('search', search);
  if (after) q.set('after', after);
  const r = await api('GET', `/api/v1/domains?${q}`);
  const body = el('tbody');
  rows = [];
  for (const d of r.json.domains || []) {
    const tr = el('tr', {},
      el('td', {}, el('a', { href: `#/domain/${encodeURIComponent(d.name)}`, text: d.name })),
      el('td', { text: '…' }), el('td', { class: 'hide-narrow', text: '' }),
      el('td', { text: '' }), el('td', { text: '' }), el('td', { class: 'activity' }));
    body.append(tr);
    rows.push([d.name, tr]);
  }
  const table = el('div', { class: 'table-wrap' }, el('table', {},
    el('caption', { class: 'skip', text: 'Domains' }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Domain' }),
      el('th', { scope: 'col', text: 'Status' }),
      el('th', { scope: 'col', class: 'hide-narrow', text: 'Since' }),
      el('th', { scope: 'col', text: 'Queued' }), el('th', { scope: 'col', text: 'Oldest' }),
      el('th', { scope: 'col', text: 'Last 24 h' }))),
    body));
  const pager = el('div', { class: 'pager' });
  if (after) {
    pager.append(el('a', { href: `#/domains?search=${encodeURIComponent(search)}`,
      text: 'First page' }));
  }
  if (r.json.next) {
    pager.append(el('a', { href: `#/domains?search=${encodeURIComponent(search)}&after=${
      encodeURIComponent(r.json.next)}`, text: 'Next page' }));
  }
  const note = r.status !== 200 ? (r.json.error || 'could not list domains')
    : rows.length ? '' : 'No domains.';
  listBox.textContent = '';
  listBox.append(table, el('p', { text: note }), pager);
  rows.forEach(([n, tr]) => statusCells(n, tr));
  activityCells();
}

export async function domainsView(params) {
  listParams = params;
  const search = params.get('search') || '';
  const box = el('input', { id: 'search', type: 'search', value: search });
  const form = el('form', { role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/domains?search=${encodeURIComponent(box.value.trim())}`;
  } }, el('label', { for: 'search', text: 'Search domains' }), box,
  el('p', {}, el('button', { type: 'submit', text: 'Search' })));
  listBox = el('section', { 'aria-label': 'Domain list' });
  const create = await newDomainForm();
  await refreshList();
  show('Domains', form, listBox, create);
  // Live status and queue depth without reloading the page.
  let ticks = 0;
  state.timer = setInterval(() => {
    rows.forEach(([n, tr]) => statusCells(n, tr));
    if (++ticks % 12 === 0) activityCells();  // usage is written every usage.flush_interval
  }, 5000);
}
