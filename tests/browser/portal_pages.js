// Owns the browser scenarios of the portal's pages beyond sign-in: a domain created through the
// form, per-message queue actions and details, the 30-day chart, customers' contacts and test
// alert, a token created and revoked, audit, usage CSV, alerts, resellers (operator only), 360 px.
// Fails by throwing from `t.expect` with the broken expectation; portal.test.js reports it.
const kNoBrand = 'SpamWeeder';

// A message's own headers are shown as they are (the gateway's Received line names the software:
// a finding reported with issue 11), everything else the portal writes must be brand-free.
async function noOperatorBrand(t, page, where) {
  const text = await page.evaluate(() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll('pre.headers').forEach((p) => p.remove());
    return copy.textContent;
  });
  const title = await page.title();
  t.expect(!text.includes(kNoBrand) && !title.includes(kNoBrand),
    `no operator brand on the reseller's ${where}`);
}

// Shows `hash` and waits for `ready` on the page it renders. The page shown before is marked
// first: several pages have a `main table`, and the old one stays until the new page's data
// arrives (under ASan the audit page once read the tokens page's table).
async function go(page, hash, ready) {
  const changed = await page.evaluate((h) => {
    if (location.hash === h) return false;
    for (const n of document.querySelectorAll('#main > *')) n.setAttribute('data-stale', '');
    location.hash = h;
    return true;
  }, hash);
  if (changed) await page.locator('#main > h1:not([data-stale])').waitFor();
  await page.locator(ready).first().waitFor();
}

async function noSideScroll(t, page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  t.expect(width <= 361, `no horizontal scrolling at 360 px on ${where} (${width} px)`);
}

async function newDomain(t, page, me) {
  await go(page, '#/domains', '#new-name');
  await page.getByLabel('Domain name').fill('not a domain!');
  await page.getByLabel('Destination mail server').fill(me.destination);
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.locator('#new-name-error').filter({ hasText: /\S/ }).waitFor();
  t.checks.push("the API's error on a bad domain name is shown next to the name field");
  await page.getByLabel('Domain name').fill(me.new_domain);
  await page.getByLabel('Destination mail server').fill('[not an address');
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.locator('#new-destination-error').filter({ hasText: /\S/ }).waitFor();
  t.checks.push("the API's error on a bad destination is shown next to the destination field");
  await page.getByLabel('Destination mail server').fill(me.destination);
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.locator('#new-domain-result', { hasText: `Created ${me.new_domain}` }).waitFor();
  await page.locator('main a', { hasText: me.new_domain }).waitFor();
  t.checks.push(`${me.new_domain} created through the form and listed`);
  t.out.created_domain = me.new_domain;
  await t.accessibility(page, `${me.name} domains with the new-domain form`);
}

async function domainPage(t, page, me) {
  await go(page, `#/domain/${me.queued_domain}`, '#messages table');
  await page.locator('#traffic-chart canvas').first().waitFor();
  t.checks.push('the 30-day chart renders');
  await page.getByRole('button', { name: /^Details of message/ }).first().click();
  await page.locator('#message-details pre', { hasText: 'Subject: test portal-queued' }).waitFor();
  t.checks.push('message details show its headers');
  await page.getByRole('button', { name: /^Hold message/ }).first().click();
  await page.locator('#status', { hasText: '(1 held)' }).waitFor();
  await page.getByRole('button', { name: /^Release message/ }).first().waitFor();
  t.checks.push('a single message is held from its row');
  await page.locator('#alerts-h').waitFor();
  await noOperatorBrand(t, page, 'domain page');
  await t.accessibility(page, `${me.name} domain with messages, chart and alerts`);
  await t.shot(page, `${me.name}-domain-desktop`);
  await page.getByRole('button', { name: /^Release message/ }).first().click();
  await page.locator('#status', { hasText: '(0 held)' }).waitFor();
  t.checks.push('and released from its row');
}

async function customers(t, page, me) {
  await go(page, '#/customers', 'main table');
  await noOperatorBrand(t, page, 'customers page');
  await t.accessibility(page, `${me.name} customers`);
  await t.shot(page, `${me.name}-customers-desktop`);
  await page.locator('main a', { hasText: 'Shop' }).first().click();
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByLabel('Name', { exact: true }).last().fill('Night shift');
  await page.getByLabel('Email').last().fill('ops@shop.acme.test');
  await page.getByRole('button', { name: 'Save contacts' }).click();
  await page.locator('#contacts-result', { hasText: 'Contacts saved.' }).waitFor();
  t.checks.push('a contact is added and saved (PATCH)');
  await page.getByRole('button', { name: 'Send test alert' }).click();
  const answer = page.locator('#test-alert-result', { hasText: /\((202|503)\)/ });
  await answer.waitFor();
  t.checks.push(`"Send test alert" shows the answer: ${await answer.innerText()}`);
  await t.accessibility(page, `${me.name} customer contacts`);
  await t.shot(page, `${me.name}-customer-desktop`);
}

async function bearerStatus(page, token) {
  return page.evaluate(async (tok) => (await fetch('/api/v1/domains', {
    headers: { Authorization: `Bearer ${tok}` } })).status, token);
}

async function tokens(t, page, me) {
  await go(page, '#/tokens', '#token-name');
  await page.getByLabel('Role').selectOption('read');
  await page.getByLabel('Name', { exact: true }).fill('portal-ci');
  await page.getByRole('button', { name: 'Create token' }).click();
  const value = (await page.locator('#new-token-value').innerText()).trim();
  t.expect(value.startsWith('sw_'), 'the new token is shown once');
  t.expect(await page.locator('main', { hasText: 'shown only once' }).count() === 1,
    'with the hint to copy it now');
  t.expect(await bearerStatus(page, value) === 200, 'the new token works against the API');
  await t.accessibility(page, `${me.name} tokens`);
  await t.shot(page, `${me.name}-tokens-desktop`);
  await page.locator('#token-list td', { hasText: 'portal-ci' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Revoke token portal-ci' }).click();
  await page.locator('#token-list-result', { hasText: 'revoked' }).waitFor();
  await page.getByRole('button', { name: 'Revoke token portal-ci' }).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  t.expect(await page.locator('#new-token-value').count() === 0, 'the token can be hidden');
  const after = await bearerStatus(page, value);
  t.expect(after === 401, `the revoked token gets 401 (${after})`);
}

async function records(t, page, me) {
  await go(page, '#/audit', 'main table');
  const audit = await page.locator('main table').innerText();
  t.expect(audit.includes('domain.create') && audit.includes(me.new_domain),
    'the audit log shows the domain.create entry');
  await noOperatorBrand(t, page, 'audit page');
  await t.accessibility(page, `${me.name} audit`);

  await go(page, '#/usage', '#usage-csv');
  const href = await page.locator('#usage-csv').getAttribute('href');
  const csv = await page.evaluate(async (h) => {
    const r = await fetch(h, { credentials: 'same-origin' });
    return [r.status, r.headers.get('content-type'), await r.text()];
  }, href);
  t.expect(csv[0] === 200 && csv[1].startsWith('text/csv') && csv[2].startsWith('day,domain,'),
    `the usage CSV link downloads text/csv (${csv[0]} ${csv[1]})`);
  await noOperatorBrand(t, page, 'usage page');
  await t.accessibility(page, `${me.name} usage`);

  await go(page, '#/alerts', 'main h1');
  await page.locator('main', { hasText: /No alerts|Event/ }).waitFor();
  await t.accessibility(page, `${me.name} alerts`);

  const nav = await page.locator('#nav').innerText();
  t.expect(nav.includes('Audit') && !nav.includes('Resellers'),
    `a reseller's nav has no Resellers (${nav.replace(/\s+/g, ' ')})`);
  await go(page, '#/resellers', 'main h1');
  await page.locator('main', { hasText: 'managed by your provider' }).waitFor();
  t.expect(await page.locator('#reseller-name').count() === 0,
    'and its Resellers page offers no reseller form');
  await noOperatorBrand(t, page, 'resellers page');
}

async function narrowPages(t, browser, me, signIn) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 },
    isMobile: true, hasTouch: true, timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  t.watch(page);
  page.setDefaultTimeout(15000);
  await signIn(page, me, me.domain);
  await page.locator('td.up, td.down').first().waitFor();
  await noSideScroll(t, page, 'domains');
  await t.shot(page, `${me.name}-domains-360`);
  await go(page, `#/domain/${me.queued_domain}`, '#traffic-chart canvas');
  await page.locator('#messages table').waitFor();
  await noSideScroll(t, page, 'a domain');
  await t.shot(page, `${me.name}-domain-360`);
  await go(page, '#/customers', 'main table');
  await noSideScroll(t, page, 'customers');
  await t.shot(page, `${me.name}-customers-360`);
  await go(page, '#/tokens', 'main table');
  await noSideScroll(t, page, 'tokens');
  await t.shot(page, `${me.name}-tokens-360`);
  await go(page, '#/usage', '#usage-csv');
  await noSideScroll(t, page, 'usage');
  await context.close();
}

async function operatorResellers(t, browser, cfg) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  t.watch(page);
  page.setDefaultTimeout(15000);
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  await page.locator('#token').waitFor();
  await page.keyboard.type(cfg.operator_token);  // the sign-in page focuses its field
  await page.keyboard.press('Enter');
  await page.locator('#nav a', { hasText: 'Resellers' }).waitFor();
  // Keyboard only: the first Tab reaches "Skip to content", then the nav links in order.
  await page.reload();
  await page.locator('#nav a', { hasText: 'Resellers' }).waitFor();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement.textContent);
  t.expect(first === 'Skip to content', `the first Tab reaches the skip link (${first})`);
  for (let i = 0; i < 12; ++i) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.textContent) === 'Resellers') break;
  }
  await page.keyboard.press('Enter');
  await page.locator('main table', { hasText: cfg.a.product }).waitFor();
  t.checks.push('signed in and reached Resellers with the keyboard alone');
  await page.getByLabel('Name', { exact: true }).fill('Gamma MSP');
  await page.getByLabel('Plan: maximum domains (0: unlimited)').fill('5');
  await page.getByLabel('Product name').fill('Gamma Guard');
  await page.getByLabel('Primary colour').fill('#116611');
  await page.getByLabel('Portal host name').fill('portal.gamma.test');
  await page.getByRole('button', { name: 'Create reseller' }).click();
  await page.locator('main table', { hasText: 'Gamma Guard' }).waitFor();
  t.checks.push('the operator sees Resellers and creates one with a plan and a brand');
  await t.accessibility(page, 'operator resellers');
  await t.shot(page, 'operator-resellers-desktop');
  await context.close();
}

// `t`: {expect, checks, shot, accessibility, out}; `page`: the acme reseller, signed in.
async function pagesScenario(t, browser, cfg, page, signIn) {
  const me = cfg.a;
  await newDomain(t, page, me);
  await domainPage(t, page, me);
  await customers(t, page, me);
  await tokens(t, page, me);
  await records(t, page, me);
  await narrowPages(t, browser, me, signIn);
  await operatorResellers(t, browser, cfg);
}

module.exports = { pagesScenario };
