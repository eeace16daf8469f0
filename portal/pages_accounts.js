// Owns the account pages: customers (list, create, contacts editor, "Send test alert"), tokens
// (list, create shown once, revoke after a confirm) and resellers (operator: list, create with
// plan and branding; others see what the API lets them read).
// Fails soft: API errors are shown next to the field they name, else under the form.
import { api, el, errorPage, field, isCustomer, isOperator, row, show, showError, state, table,
  when } from '/portal/assets/api.js';

function form(id, title, fields, submit, onsubmit) {
  const result = el('p', { id: `${id}-result`, role: 'status' });
  const f = el('form', { class: 'card', 'aria-labelledby': `${id}-h`, onsubmit: async (ev) => {
    ev.preventDefault();
    result.textContent = '';
    await onsubmit(result);
  } }, el('h2', { id: `${id}-h`, text: title }), ...fields.map((x) => x.wrap),
  el('p', {}, el('button', { type: 'submit', class: 'primary', text: submit })), result);
  return f;
}

export async function customersView() {
  const r = await api('GET', '/api/v1/customers');
  if (r.status !== 200) return errorPage('Customers', r);
  const rows = (r.json.customers || []).map((c) => row(
    el('a', { href: `#/customer/${encodeURIComponent(c.id)}`, text: c.name }), c.id,
    String((c.contacts || []).length), when(c.created_at)));
  const list = rows.length ? table('Customers', ['Name', 'ID', 'Contacts', 'Created'], rows)
    : el('p', { text: 'No customers yet.' });
  let create = null;
  if (!isCustomer()) {
    const name = field('customer-name', 'Customer name', { autocomplete: 'off' });
    create = form('new-customer', 'New customer', [name], 'Create customer', async (result) => {
      const c = await api('POST', '/api/v1/customers', { name: name.input.value.trim() });
      if (c.status === 201) { location.hash = `#/customer/${encodeURIComponent(c.json.id)}`; return; }
      showError(c, { name }, result);
    });
  }
  show('Customers', list, create);
}

function contactEditor(i, c, onRemove) {
  const f = (k, label, type) => field(`contact-${i}-${k}`, label,
    { type, value: c[k] || '', autocomplete: 'off' });
  const fields = { name: f('name', 'Name', 'text'), email: f('email', 'Email', 'email'),
    phone: f('phone', 'Phone (SMS)', 'tel'), webhook: f('webhook', 'Webhook URL', 'url') };
  const box = el('fieldset', { class: 'contact' }, el('legend', { text: `Contact ${i + 1}` }),
    ...Object.values(fields).map((x) => x.wrap),
    el('button', { type: 'button', text: `Remove contact ${i + 1}`, onclick: onRemove }));
  const value = () => {
    const out = { ...c };  // keeps events and the masked webhook_secret ("***" = unchanged)
    for (const [k, x] of Object.entries(fields)) out[k] = x.input.value.trim();
    return out;
  };
  return { box, fields, value };
}

export async function customerView(id) {
  const path = `/api/v1/customers/${encodeURIComponent(id)}`;
  const r = await api('GET', path);
  if (r.status !== 200) return errorPage('Customer', r);
  const cust = r.json;
  let version = cust.version;
  let contacts = (cust.contacts || []).map((c) => ({ ...c }));
  const list = el('div');
  const result = el('p', { id: 'contacts-result', role: 'status' });
  let editors = [];
  const render = () => {
    list.textContent = '';
    editors = contacts.map((c, i) => contactEditor(i, c, () => {
      contacts = editors.map((e) => e.value()).filter((_, j) => j !== i);
      render();
    }));
    editors.forEach((e) => list.append(e.box));
    if (!editors.length) list.append(el('p', { text: 'No contacts: alerts reach nobody.' }));
  };
  render();
  const save = el('form', { class: 'card', 'aria-labelledby': 'contacts-h', onsubmit: async (ev) => {
    ev.preventDefault();
    result.textContent = '';
    contacts = editors.map((e) => e.value());
    const p = await api('PATCH', path, { version, contacts });
    if (p.status === 200) { version = p.json.version; result.textContent = 'Contacts saved.'; }
    for (const e of editors) for (const x of Object.values(e.fields)) x.error.textContent = '';
    if (p.status === 200) return;
    const m = /^contacts\[(\d+)\]\.?(\w*)/.exec(p.json.field || '');
    const target = m && editors[Number(m[1])] && editors[Number(m[1])].fields[m[2]];
    if (target) target.error.textContent = p.json.error;
    else result.textContent = p.json.error || `save failed (${p.status})`;
  } }, el('h2', { id: 'contacts-h', text: 'Alert contacts' }), list,
  el('div', { class: 'actions' },
    el('button', { type: 'button', text: 'Add contact', onclick: () => {
      contacts = editors.map((e) => e.value());
      contacts.push({ name: '', email: '', phone: '', webhook: '' });
      render();
      list.querySelector('fieldset:last-of-type input').focus();
    } }),
    el('button', { type: 'submit', class: 'primary', text: 'Save contacts' })), result);
  const testResult = el('p', { id: 'test-alert-result', role: 'status' });
  const test = el('section', { class: 'card', 'aria-labelledby': 'test-h' },
    el('h2', { id: 'test-h', text: 'Test alert' }),
    el('p', { text: 'Sends a test alert to every saved contact through each of its channels.' }),
    el('button', { type: 'button', text: 'Send test alert', onclick: async () => {
      testResult.textContent = 'Sending…';
      const t = await api('POST', `${path}/contacts/test`, {});
      const sent = (t.json.channels || []).map((c) => `${c.channel} to ${c.to}`).join(', ');
      testResult.textContent = t.status === 202 ? `Accepted (202): ${sent}`
        : `${t.json.error || 'failed'} (${t.status})`;
    } }), testResult);
  show(`Customer ${cust.name}`, el('p', { text: `ID ${cust.id}` }), save, test);
}

async function accountOptions() {
  const own = state.principal.account;
  const opts = [[own, `${own} (this account)`]];
  if (isOperator()) {
    const rs = await api('GET', '/api/v1/resellers');
    for (const x of rs.json.resellers || []) opts.push([x.id, `${x.name} (${x.id})`]);
  }
  if (!isCustomer()) {
    const cs = await api('GET', '/api/v1/customers');
    for (const x of cs.json.customers || []) opts.push([x.id, `${x.name} (${x.id})`]);
  }
  return opts;
}

async function tokenList(box, result) {
  const r = await api('GET', '/api/v1/tokens');
  if (r.status !== 200) return false;
  const rows = (r.json.tokens || []).map((t) => row(t.name || '—', t.id, t.account, t.role,
    when(t.created_at), when(t.last_used_at), el('button', { type: 'button',
      'aria-label': `Revoke token ${t.name || t.id}`, text: 'Revoke', onclick: async () => {
        if (!window.confirm(`Revoke token ${t.name || t.id}? Anything using it stops working.`))
          return;
        const d = await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.id)}`);
        result.textContent = d.status === 204 ? `Token ${t.name || t.id} revoked.`
          : (d.json.error || `revoke failed (${d.status})`);
        tokenList(box, result);
      } })));
  box.textContent = '';
  box.append(rows.length ? table('Tokens',
    ['Name', 'ID', 'Account', 'Role', 'Created', 'Last used', ''], rows)
    : el('p', { text: 'No tokens.' }));
  return true;
}

export async function tokensView() {
  const result = el('p', { id: 'token-list-result', role: 'status' });
  const list = el('div', { id: 'token-list' });
  const r = await api('GET', '/api/v1/tokens');
  if (r.status !== 200) return errorPage('Tokens', r);
  await tokenList(list, result);
  const account = field('token-account', 'Account', {}, await accountOptions());
  const role = field('token-role', 'Role', {}, [['admin', 'admin (read and write)'],
    ['read', 'read only']]);
  const name = field('token-name', 'Name', { autocomplete: 'off', placeholder: 'e.g. billing' });
  const created = el('div', { id: 'new-token', 'aria-live': 'polite' });
  const create = form('new-token-form', 'New token', [account, role, name], 'Create token',
    async (res) => {
      const c = await api('POST', '/api/v1/tokens', { account: account.input.value,
        role: role.input.value, name: name.input.value.trim() });
      if (c.status !== 201) { showError(c, { account, role, name }, res); return; }
      const code = el('code', { id: 'new-token-value', text: c.json.token });
      created.textContent = '';
      created.append(el('div', { class: 'card created' },
        el('p', { text: `Token ${c.json.name || c.json.id} created. Copy it now: it is shown ` +
          'only once and cannot be recovered.' }), el('p', {}, code),
        el('button', { type: 'button', text: 'Copy token', onclick: async () => {
          try { await navigator.clipboard.writeText(c.json.token); res.textContent = 'Copied.'; }
          catch (e) { res.textContent = 'Select the token and copy it by hand.'; }
        } }), ' ', el('button', { type: 'button', text: 'Done, hide it',
          onclick: () => { created.textContent = ''; } })));
      name.input.value = '';
      await tokenList(list, result);
      created.querySelector('code').scrollIntoView({ block: 'nearest' });
    });
  show('Tokens', created, list, result, create);
}

export async function resellersView() {
  const r = await api('GET', '/api/v1/resellers');
  if (r.status !== 200) return errorPage('Resellers', r);
  const rows = (r.json.resellers || []).map((x) => row(x.name, x.id,
    (x.plan || {}).max_domains ? String(x.plan.max_domains) : 'unlimited',
    (x.branding || {}).product_name, (x.branding || {}).portal_host, when(x.created_at)));
  const list = rows.length ? table('Resellers',
    ['Name', 'ID', 'Max domains', 'Product name', 'Portal host', 'Created'], rows)
    : el('p', { text: 'No resellers yet.' });
  if (!isOperator()) {
    show('Resellers', el('p', { text: 'Resellers and plans are managed by your provider.' }), list);
    return;
  }
  const f = (k, label, attrs = {}) => field(`reseller-${k}`, label, { autocomplete: 'off', ...attrs });
  const fields = { name: f('name', 'Name'), max: f('max', 'Plan: maximum domains (0: unlimited)',
    { type: 'number', min: '0', value: '0' }), product_name: f('product_name', 'Product name'),
  primary_color: f('primary_color', 'Primary colour', { placeholder: '#0b5394' }),
  logo_url: f('logo_url', 'Logo URL'), support_email: f('support_email', 'Support email',
    { type: 'email' }), portal_host: f('portal_host', 'Portal host name'),
  alert_from: f('alert_from', 'Alert sender address', { type: 'email' }),
  alert_from_name: f('alert_from_name', 'Alert sender name') };
  const errs = { name: fields.name, 'plan.max_domains': fields.max };
  const create = form('new-reseller', 'New reseller', Object.values(fields), 'Create reseller',
    async (result) => {
      const branding = {};
      for (const k of ['product_name', 'primary_color', 'logo_url', 'support_email', 'portal_host',
        'alert_from', 'alert_from_name']) {
        branding[k] = fields[k].input.value.trim();
        errs[`branding.${k}`] = fields[k];
      }
      const c = await api('POST', '/api/v1/resellers', { name: fields.name.input.value.trim(),
        plan: { max_domains: Number(fields.max.input.value || 0) }, branding });
      if (c.status === 201) { resellersView(); return; }
      showError(c, errs, result);
    });
  show('Resellers', list, create);
}
