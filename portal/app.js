// Owns the portal's shell: the brand, sign-in and sign-out, the navigation (per account kind) and
// the hash router that hands each page to its module. Pages: pages_domains.js (domains),
// pages_domain.js (a domain, with chart.js), pages_accounts.js (customers, tokens, resellers),
// pages_logs.js (audit, usage, alerts).
// Fails soft: a failed session check lands on the sign-in page. Charts: uPlot 1.6.31 (MIT),
// vendored in portal/vendor/ and loaded by index.html; nothing comes from another host.
import { $, api, el, show, state, setUnauthorizedHandler } from '/portal/assets/api.js';
import { domainsView } from '/portal/assets/pages_domains.js';
import { domainView } from '/portal/assets/pages_domain.js';
import { customersView, customerView, tokensView, resellersView }
  from '/portal/assets/pages_accounts.js';
import { alertsView, auditView, usageView } from '/portal/assets/pages_logs.js';

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

const kPages = [['domains', 'Domains'], ['customers', 'Customers'], ['tokens', 'Tokens'],
  ['audit', 'Audit'], ['usage', 'Usage'], ['alerts', 'Alerts'], ['resellers', 'Resellers']];

function buildNav() {
  const nav = $('#nav');
  nav.textContent = '';
  for (const [page, label] of kPages) {
    if (page === 'resellers' && state.principal.kind !== 'operator') continue;
    nav.append(el('a', { href: `#/${page}`, 'data-page': page, text: label }));
  }
}

function markCurrent(page) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signedIn(doc) {
  state.csrf = doc.csrf;
  state.principal = doc.principal;
  state.mx_host = doc.mx_host;
  applyBrand(doc.brand);
  buildNav();
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

export async function route() {
  const hash = location.hash || '#/domains';
  const [p, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  if (!state.principal && p !== '/signin') {
    const r = await api('GET', '/portal/session');
    if (r.status !== 200) { location.hash = '#/signin'; return; }
    signedIn(r.json);
  }
  const [, page, arg] = p.match(/^\/([a-z]+)\/?(.*)$/) || [null, 'domains', ''];
  markCurrent(page === 'domain' ? 'domains' : page === 'customer' ? 'customers' : page);
  const name = decodeURIComponent(arg || '');
  switch (page) {
    case 'signin': return signInView();
    case 'domain': return domainView(name);
    case 'customers': return customersView();
    case 'customer': return customerView(name);
    case 'tokens': return tokensView();
    case 'audit': return auditView(params);
    case 'usage': return usageView(params);
    case 'alerts': return alertsView(params);
    case 'resellers': return resellersView();
    default: return domainsView(params);
  }
}

setUnauthorizedHandler(signedOut);
$('#signout').addEventListener('click', async () => {
  await api('DELETE', '/portal/session');
  signedOut();
});
window.addEventListener('hashchange', () => {
  $('#main').focus({ preventScroll: true });  // keyboard users start at the new page
  route();
});
try { applyBrand(JSON.parse($('#brand-data').textContent)); } catch (e) { /* keep the page */ }
route();
