// Drives the portal in Debian's headless Chromium (npm playwright-core; one browser for every
// scenario): per-brand sign-in and isolation, queue hold/release, settings validation next to the
// field, Premium switched on and the next message scanned, the 24 h sparkline, the CSRF rules,
// sign-out, 360 px layout, axe-core accessibility, the sign-in limit; the
// other pages (domain form, customers, tokens, audit, usage, alerts, resellers) in portal_pages.js.
// Fails (exit 1) on the first broken expectation, naming it. Input: env SW_PORTAL (JSON, from
// tests/integration/portal_test.cc); screenshots go to its `artifacts` directory.
const fs = require('fs');
const net = require('net');
const path = require('path');
const { chromium } = require(path.join(__dirname, 'node_modules', 'playwright-core'));
const { pagesScenario } = require(path.join(__dirname, 'portal_pages.js'));

const cfg = JSON.parse(process.env.SW_PORTAL);
const axeSource = fs.readFileSync(path.join(__dirname, 'node_modules', 'axe-core', 'axe.min.js'),
  'utf8');
const url = (host) => `http://${host}:${cfg.port}/`;
const checks = [];
const out = {};  // read by tests/integration/portal_test.cc (e.g. the domain the form created)

function expect(ok, what) {
  if (!ok) throw new Error(`expectation failed: ${what}`);
  checks.push(what);
}

// Script errors and CSP refusals on any page: reported with the result, fail the run at the end.
const pageErrors = [];
function watch(page) {
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) pageErrors.push(`${m.text().slice(0, 60)} at ${page.url()} after check ${checks.length}`);
  });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(cfg.artifacts, `${name}.png`), fullPage: true });
}

async function accessibility(page, where) {
  await page.evaluate(axeSource);  // evaluated by the DevTools protocol: not subject to the CSP
  const result = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.length === 0, `no serious accessibility violations on ${where}: ${
    JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)]))}`);
}

async function signIn(page, tenant, domainsVisible) {
  await page.goto(url(tenant.host));
  await page.locator('#token').waitFor();
  await page.getByLabel('Access token').fill(tenant.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('a', { hasText: domainsVisible }).first().waitFor();
}

async function brandScenario(browser, me, other) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 },
    timezoneId: 'America/New_York' });
  const page = await context.newPage();
  watch(page);
  page.setDefaultTimeout(15000);
  await page.goto(url(me.host));
  await page.locator('#token').waitFor();
  const title = await page.title();
  expect(title.endsWith(me.product), `${me.host}: the sign-in page's title names ${me.product} (${title})`);
  const signinText = await page.locator('body').innerText();
  expect(!signinText.includes('SpamWeeder') && !signinText.includes(other.product),
    `${me.host}: no operator or other brand on the sign-in page`);
  const color = await page.evaluate(() =>
    getComputedStyle(document.documentElement).getPropertyValue('--primary').trim());
  expect(color === me.color, `${me.host}: primary colour ${me.color} (got ${color})`);
  expect(await page.locator('link[rel=icon]').count() === 1, `${me.host}: a branded favicon`);
  await shot(page, `${me.name}-signin-desktop`);
  await accessibility(page, `${me.name} sign-in`);

  await page.getByLabel('Access token').fill('sw_wrong-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#token-error', { hasText: 'unknown or revoked token' }).waitFor();
  checks.push(`${me.host}: a wrong token is refused next to the field`);

  await signIn(page, me, me.domain);
  const text = await page.locator('main').innerText();
  expect(text.includes(me.domain) && !text.includes(other.domain),
    `${me.name} sees ${me.domain} and not ${other.domain}`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'sw_session');
  expect(session && session.httpOnly && session.sameSite === 'Strict',
    'the session cookie is HttpOnly and SameSite=Strict');
  await page.locator('td.up, td.down').first().waitFor();
  await shot(page, `${me.name}-domains-desktop`);
  await accessibility(page, `${me.name} domains`);
  return { context, page };
}

async function queueAndSettings(page, me, other) {
  // A session is scoped exactly like its token: another reseller's domain is 404.
  const outside = await page.evaluate(async (d) => [
    (await fetch(`/api/v1/domains/${d}`, { credentials: 'same-origin' })).status,
    (await fetch(`/api/v1/domains/${d}/status`, { credentials: 'same-origin' })).status,
  ], other.domain);
  expect(outside[0] === 404 && outside[1] === 404,
    `${me.name}'s session gets 404 for ${other.domain} (${outside})`);
  await page.locator('a', { hasText: me.queued_domain }).click();
  const status = page.locator('#status');
  await status.filter({ hasText: '1 queued (0 held)' }).waitFor();
  await page.getByRole('button', { name: 'Hold', exact: true }).click();
  await status.filter({ hasText: '(1 held)' }).waitFor();
  checks.push('hold through the portal holds the queued message');
  const domainText = await page.locator('body').innerText();
  expect(!domainText.includes('SpamWeeder'), 'no operator brand on the domain page');
  expect(domainText.includes(`${me.queued_domain}. IN MX 10 ${cfg.mx_host}.`),
    `the DNS section names the gateway as MX (${domainText.slice(domainText.indexOf('DNS'), domainText.indexOf('DNS') + 120)})`);
  await shot(page, `${me.name}-domain-desktop`);
  await accessibility(page, `${me.name} domain`);
  await page.getByRole('button', { name: 'Release', exact: true }).click();
  await status.filter({ hasText: '(0 held)' }).waitFor();
  checks.push('release through the portal releases it');

  await page.getByLabel('Tag as spam at score').fill('20');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('#tag_score-error', { hasText: /reject/ }).waitFor();
  checks.push("the API's validation message is shown next to the field");
  await page.getByLabel('Tag as spam at score').fill('5');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('#settings-result', { hasText: 'Saved.' }).waitFor();
  checks.push('a valid setting is saved');

  // The session cookie alone never authorises a write: no CSRF header, or a wrong one: 403.
  const target = `/api/v1/domains/${encodeURIComponent(me.queued_domain)}/hold`;
  const refused = await page.evaluate(async (t) => {
    const a = await fetch(t, { method: 'POST', credentials: 'same-origin' });
    const b = await fetch(t, { method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': 'forged' } });
    return [a.status, b.status, (await b.json()).field];
  }, target);
  expect(refused[0] === 403 && refused[1] === 403 && refused[2] === 'X-CSRF-Token',
    `cookie-only and forged-CSRF writes are 403 (${refused})`);
  await page.reload();
  await status.filter({ hasText: '(0 held)' }).waitFor();
  checks.push('the refused writes changed nothing');
}

// One SMTP transaction to the gateway (no TLS): the replies, greeting first. Stops at the first
// 4xx/5xx reply (then QUITs).
function smtpSend(from, to, data) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(cfg.smtp_port, '127.0.0.1');
    const steps = ['EHLO portal-test.example', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA',
      `${data}\r\n.`, 'QUIT'];
    const replies = [];
    let buf = '';
    let step = -1;  // the greeting comes first
    sock.setTimeout(30000, () => { sock.destroy(); reject(new Error('SMTP timeout')); });
    sock.on('error', reject);
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (let m; (m = buf.match(/^(\d{3})([ -])(.*)\r\n/));) {
        buf = buf.slice(m[0].length);
        if (m[2] === '-') continue;
        replies.push(`${m[1]} ${m[3]}`);
        if (Number(m[1]) >= 400 && steps[step] !== 'QUIT') {
          sock.end('QUIT\r\n');
          resolve(replies);
          return;
        }
        if (++step < steps.length) sock.write(`${steps[step]}\r\n`);
        else { sock.end(); resolve(replies); }
      }
    });
  });
}

// Premium switched on in the settings form: the next message to the domain is scanned by rspamd
// (its queued copy carries X-Spam-Score); the one queued before carries none.
async function premiumScans(page, me) {
  await page.evaluate((h) => { location.hash = h; }, `#/domain/${me.queued_domain}`);
  await page.locator('#messages table').waitFor();
  await page.getByRole('button', { name: /^Details of message/ }).first().click();
  const pre = page.locator('#message-details pre');
  await pre.filter({ hasText: 'Subject: test portal-queued' }).waitFor();
  expect(!(await pre.innerText()).includes('X-Spam-'), 'the message queued before Premium is unscanned');
  await page.getByLabel('Premium filtering (spam and virus scanning)').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('#settings-result', { hasText: 'Saved.' }).waitFor();
  const data = ['From: <premium@client.example>', `To: <user@${me.queued_domain}>`,
    'Subject: premium check', `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <premium.${Date.now()}@client.example>`, '', 'Scanned now, I hope.'].join('\r\n');
  let replies = [];
  // The first Premium domain also starts the scanners: 4xx (tempfail) until they are up.
  for (const until = Date.now() + 30000; Date.now() < until;) {
    replies = await smtpSend('premium@client.example', `user@${me.queued_domain}`, data);
    if ((replies[5] || '').startsWith('250')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect((replies[5] || '').startsWith('250'), `the message after Premium is accepted (${replies})`);
  await page.reload();
  const row = page.locator('#messages tr', { hasText: 'premium@client.example' });
  await row.getByRole('button', { name: /^Details of message/ }).click();
  await pre.filter({ hasText: 'Subject: premium check' }).waitFor();
  const headers = await pre.innerText();
  expect(headers.includes('X-Spam-Score:'),
    `after Premium is switched on in the portal the next message is scanned (${headers.slice(0, 400)})`);
  expect(headers.includes(`by ${cfg.mx_host} with ESMTP`) && !headers.includes('SpamWeeder'),
    'our Received header names no product (server.received_product: "")');
}

// The domain list's 24 h sparkline counts the mail accepted today (usage is flushed every
// usage.flush_interval, so the list is reloaded until it shows).
async function activitySparkline(page, me) {
  let total = 0;
  await page.evaluate(() => { location.hash = '#/domains'; });
  for (const until = Date.now() + 30000; Date.now() < until && total < 2;) {
    await page.reload();
    const svg = page.locator('tr', { hasText: me.queued_domain }).locator('svg.sparkline');
    await svg.waitFor();
    total = Number(await svg.getAttribute('data-total'));
    if (total < 2) await new Promise((r) => setTimeout(r, 1000));
  }
  expect(total >= 2, `the 24 h sparkline of ${me.queued_domain} counts its 2 messages (${total})`);
  await shot(page, `${me.name}-domains-activity-desktop`);
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#token').waitFor();
  const after = await page.evaluate(async () =>
    (await fetch('/api/v1/domains', { credentials: 'same-origin' })).status);
  expect(after === 401, `after sign-out the old cookie is refused (${after})`);
}

async function signInLimit(me) {
  let last = 0;
  for (let i = 0; i < 6; ++i) {
    const r = await fetch(`http://127.0.0.1:${cfg.port}/portal/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: `sw_wrong_${i}` }) });
    last = r.status;
  }
  expect(last === 429, `the 6th failed sign-in from one address is 429 (got ${last})`);
}

(async () => {
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', `--host-resolver-rules=MAP ${cfg.a.host} 127.0.0.1, MAP ${cfg.b.host} 127.0.0.1`],
  });
  try {
    const a = await brandScenario(browser, cfg.a, cfg.b);
    await queueAndSettings(a.page, cfg.a, cfg.b);
    const t = { expect, checks, shot, accessibility, out, watch };
    await pagesScenario(t, browser, cfg, a.page, signIn);
    await premiumScans(a.page, cfg.a);
    await activitySparkline(a.page, cfg.a);
    await signOut(a.page);
    await a.context.close();
    const b = await brandScenario(browser, cfg.b, cfg.a);
    await b.context.close();
    await signInLimit(cfg.a);
    expect(pageErrors.length === 0, `no script errors or CSP refusals: ${JSON.stringify(pageErrors)}`);
  } catch (e) {
    if (pageErrors.length) e.message += ` (page errors: ${JSON.stringify(pageErrors)})`;
    throw e;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ ok: true, ...out, checks }));
})().catch((e) => {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), checks }));
  process.exit(1);
});
