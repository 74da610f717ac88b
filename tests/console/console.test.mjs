// The web console in a real browser: headless Chromium (Debian's package) driven by
// playwright-core, against the `whirl serve` that run.sh started (WHIRL_APIHOST, WHIRL_AUTH).
// One walk through the main screens, in order: sign in (a wrong key refused), create a Python
// function in the code editor, invoke it (result, logs, cold start), see an activation appear
// live in the activations list, create a trigger and a rule and fire the trigger, follow the
// trigger's activation to the one it caused, open the audit history and the log verification,
// look at the plots, delete a function with confirmation, sign out. Screenshots of each screen
// go to WHIRL_CONSOLE_SCREENSHOTS (run.sh: the scratch directory, or docs/console/ when asked).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const host = process.env.WHIRL_APIHOST;
const key = process.env.WHIRL_AUTH;
const shots = process.env.WHIRL_CONSOLE_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'whirl-console-shots-'));
assert.ok(host && key, 'run through tests/console/run.sh (WHIRL_APIHOST and WHIRL_AUTH)');
mkdirSync(shots, { recursive: true });

// The flags this machine's Chromium needs: no sandbox as root, and nothing that dials out.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let page;
let profile;
const errors = [];

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'whirl-console-profile-'));
  // A persistent context is how playwright hands Chromium a fresh --user-data-dir of our own.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: FLAGS,
    headless: true,
    viewport: { width: 1280, height: 800 },
  });
  page = browser.pages()[0] || (await browser.newPage());
  page.setDefaultTimeout(15000);
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    // The wrong key's 401 is expected; anything else the page logs as an error is not.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(message.text());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });

// The REST API, as another client would call it (to invoke while the console watches).
async function rest(method, path, body) {
  const response = await fetch(`${host}${path}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(key).toString('base64')}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

test('sign in: a wrong key is refused, the right one opens the namespace', async () => {
  await page.goto(`${host}/console`);
  await page.getByLabel('Namespace key').fill(`${key.split(':')[0]}:${'0'.repeat(64)}`);
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
  await page.getByLabel('Namespace key').fill(key);
  await shot('signin');
  await page.keyboard.press('Enter');
  await page.locator('#namespace').filter({ hasText: 'guest' }).waitFor();
  await page.locator('#live-state').filter({ hasText: 'live' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('whirl.console.key')), key);
  assert.match(page.url(), /#\/functions$/);
});

test('create a Python function in the code editor', async () => {
  // Keyboard only: Tab reaches "New function" (after the skip link and the navigation), Enter opens it.
  let focused = '';
  for (let i = 0; i < 20 && focused !== 'new-function'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  assert.equal(focused, 'new-function', 'Tab reaches the New function link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'New function' }).waitFor();
  await page.getByLabel('Name').fill('hello');
  const code = [
    'def main(args):',
    '    name = args.get("name", "stranger")',
    '    print("hello from the console to", name)',
    '    return {"greeting": "Hello " + name}',
    '',
  ].join('\n');
  await page.locator('#fn-code .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(code);
  await page.locator('#fn-memory').fill('128');
  await page.locator('#fn-params').fill('{"name": "default"}');
  await shot('editor');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Edit hello' }).waitFor();
  const stored = await rest('GET', '/api/v1/namespaces/_/actions/hello');
  assert.equal(stored.status, 200);
  assert.equal(stored.json.exec.kind, 'python:3');
  assert.equal(stored.json.exec.code, code);
  assert.equal(stored.json.limits.memory, 128);
  assert.deepEqual(stored.json.parameters, [{ key: 'name', value: 'default' }]);
});

test('invoke it: result, logs, duration, cold then warm', async () => {
  await page.goto(`${host}/console#/invoke/hello`);
  await page.getByLabel('Parameters (JSON object)').fill('{"name": "Whirl"}');
  await page.getByRole('button', { name: 'Invoke', exact: true }).click();
  await page.locator('#invoke-result').filter({ hasText: 'Hello Whirl' }).waitFor();
  assert.match(await page.locator('#invoke-logs').innerText(), /hello from the console to Whirl/);
  assert.match(await page.locator('#invoke-start').innerText(), /^cold/);
  assert.match(await page.locator('#invoke-duration').innerText(), /\d+ (ms|s)/);
  await page.getByRole('button', { name: 'Invoke', exact: true }).click();
  await page.locator('#invoke-start').filter({ hasText: 'warm' }).waitFor();
  await shot('invoke');
  // Not blocking: the answer is the id; the record arrives over the live stream.
  await page.getByLabel('Wait for the result (blocking)').uncheck();
  await page.getByLabel('Parameters (JSON object)').fill('{"name": "later"}');
  await page.getByRole('button', { name: 'Invoke', exact: true }).click();
  await page.locator('#invoke-result').filter({ hasText: 'Hello later' }).waitFor();
});

test('an activation appears live in the list', async () => {
  await page.getByRole('link', { name: 'Activations', exact: true }).first().click();
  await page.locator('#activation-rows tr[data-name="hello"]').first().waitFor();
  const before = await page.locator('#activation-rows tr').count();
  // Another client invokes; the console learns it from the event stream, without reloading.
  const invoked = await rest('POST', '/api/v1/namespaces/_/actions/hello?blocking=true', { name: 'live' });
  assert.equal(invoked.status, 200);
  const row = page.locator(`#activation-rows tr.fresh[data-id="${invoked.json.activationId}"]`);
  await row.waitFor();
  assert.equal(await page.locator('#activation-rows tr').count(), before + 1);
  await page.locator('#filter-status').selectOption('failed');
  await page.locator('#activation-rows td.empty').waitFor();
  await page.locator('#filter-status').selectOption('any');
  await page.locator(`#activation-rows tr[data-id="${invoked.json.activationId}"]`).waitFor();
  await shot('activations');
});

test('triggers and rules: create, fire through the rule, follow the cause', async () => {
  await page.getByRole('link', { name: 'Triggers & rules' }).click();
  await page.getByLabel('New trigger').fill('tick');
  await page.getByRole('button', { name: 'Create trigger' }).click();
  await page.locator('table[aria-label="Triggers"] tr[data-name="tick"]').waitFor();
  await page.getByLabel('New rule').fill('tick-hello');
  await page.locator('#rule-trigger').selectOption('tick');
  await page.locator('#rule-action').selectOption('hello');
  await page.getByRole('button', { name: 'Create rule' }).click();
  const rule = page.locator('table[aria-label="Rules"] tr[data-name="tick-hello"]');
  await rule.filter({ hasText: 'active' }).waitFor();
  await page.getByLabel('Parameters to fire tick with').fill('{"name": "a rule"}');
  await page.getByRole('button', { name: 'Fire tick' }).click();
  const fired = await page.locator('#triggers-status').filter({ hasText: 'activation' }).innerText();
  const triggerId = fired.match(/[0-9a-f]{32}/)[0];
  await shot('triggers');
  // Disable and enable the rule again.
  await page.getByRole('button', { name: 'Disable rule tick-hello' }).click();
  await rule.filter({ hasText: 'inactive' }).waitFor();
  await page.getByRole('button', { name: 'Enable rule tick-hello' }).click();
  await rule.locator('.badge').filter({ hasText: /^active$/ }).waitFor();
  // The trigger's record lists the activation its rule caused.
  let caused;
  for (let i = 0; i < 100 && !caused; i++) {
    const list = await rest('GET', '/api/v1/namespaces/_/activations?name=hello&limit=5');
    caused = list.json.find((r) => r.cause === triggerId);
    if (!caused) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(caused, 'the rule ran hello');
  await page.goto(`${host}/console#/activations/${triggerId}`);
  await page.locator('#caused a', { hasText: caused.activationId }).click();
  await page.getByRole('heading', { name: 'Activation of hello' }).waitFor();
  assert.match(await page.locator('#activation-result').innerText(), /Hello a rule/);
  await page.getByRole('link', { name: triggerId }).waitFor();
  await shot('activation');
  // A sequence's record links to its components' activations.
  assert.equal((await rest('PUT', '/api/v1/namespaces/_/actions/twice', { exec: { kind: 'sequence', components: ['/_/hello', '/_/hello'] } })).status, 200);
  const sequence = await rest('POST', '/api/v1/namespaces/_/actions/twice?blocking=true', { name: 'sequence' });
  assert.equal(sequence.status, 200);
  await page.goto(`${host}/console#/activations/${sequence.json.activationId}`);
  await page.getByRole('heading', { name: 'Component activations' }).waitFor();
  assert.equal(await page.locator('#caused li').count(), 2);
  assert.equal(await page.locator('#activation-logs a').count(), 2);
});

test('audit: the function history with the key and the diff, and the log verified', async () => {
  // One more change, so the history has a diff.
  assert.equal((await rest('PUT', '/api/v1/namespaces/_/actions/hello?overwrite=true', { limits: { memory: 256 } })).status, 200);
  await page.goto(`${host}/console#/functions`);
  await page.getByRole('link', { name: 'History of hello' }).click();
  await page.locator('#verify-verdict').filter({ hasText: 'Verified' }).waitFor();
  const entries = page.locator('#history-entries > li');
  await entries.nth(1).waitFor();
  assert.equal(await entries.count(), 2);
  assert.match(await entries.nth(0).innerText(), /ActionPut[\s\S]*\(you\)[\s\S]*\(created\)/);
  assert.match(await entries.nth(1).innerText(), /limits\.memory_mb[\s\S]*128[\s\S]*256/);
  await shot('audit');
});

test('metrics: plots of the last hour and the container pool', async () => {
  await page.getByRole('link', { name: 'Metrics' }).click();
  await page.locator('#plots svg').nth(3).waitFor();
  assert.match(await page.locator('#metrics-totals').innerText(), /Invocations\s+[4-9]/);
  await page.locator('#pool svg').waitFor();
  await page.locator('#metrics-function').selectOption('hello');
  await shot('metrics');
});

test('functions: the list with an OpenFaaS function, delete with confirmation, sign out', async () => {
  assert.equal((await rest('PUT', '/api/v1/namespaces/_/actions/scratch', { exec: { kind: 'nodejs:20', code: 'function main(a) { return a; }' } })).status, 200);
  // A function deployed through the OpenFaaS API is an action like the others, badged.
  const deployed = await rest('POST', '/system/functions', { service: 'of-cat', image: 'functions/alpine:latest', envProcess: 'cat' });
  assert.ok([200, 202].includes(deployed.status), `deploy answered ${deployed.status}`);
  await page.getByRole('link', { name: 'Functions' }).click();
  const row = page.locator('tr[data-name="hello"]');
  await row.waitFor();
  assert.match(await row.innerText(), /python:3[\s\S]*256 MB[\s\S]*60 s/);
  await page.locator('tr[data-name="of-cat"] .badge.openfaas').waitFor();
  assert.equal(await page.locator('tr[data-name="hello"] .badge.openfaas').count(), 0);
  await page.locator('tr[data-name="scratch"]').waitFor();
  // A function created by another client appears without a reload (the entity event).
  assert.equal((await rest('PUT', '/api/v1/namespaces/_/actions/arrived', { exec: { kind: 'python:3', code: 'def main(a):\n    return a' } })).status, 200);
  await page.locator('tr[data-name="arrived"]').waitFor();
  await shot('functions');
  // Cancel first: nothing is deleted.
  await page.getByRole('button', { name: 'Delete scratch' }).click();
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.equal((await rest('GET', '/api/v1/namespaces/_/actions/scratch')).status, 200);
  await page.getByRole('button', { name: 'Delete scratch' }).click();
  await page.locator('#confirm-yes').click();
  await page.locator('tr[data-name="scratch"]').waitFor({ state: 'detached' });
  assert.equal((await rest('GET', '/api/v1/namespaces/_/actions/scratch')).status, 404);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Namespace key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('whirl.console.key')), null);
  assert.deepEqual(errors, [], 'no script errors in the page');
});
