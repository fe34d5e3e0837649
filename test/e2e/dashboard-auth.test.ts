/**
 * The dashboard against a hub that requires authentication (`anonymous: 'none'`),
 * in Debian's Chromium: login form, wrong password, rate limit, roles, logout,
 * the HttpOnly session cookie, and the way back to the form when the hub stops
 * accepting the session. Users and devices come from the hub's security test
 * fixture (vera: viewer, otto: operator; d1 with its secret). One device, d1,
 * publishes over MQTT with its secret and answers commands.
 *
 * The page is loaded through a cuttable TCP proxy, so the last test can drop its
 * connection while the session is revoked. Screenshots of the login form go to
 * a temp dir, or to FIELDLINK_SCREENSHOTS_DIR (docs/images). Timeouts are upper
 * bounds for "eventually"; nothing asserts on speed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLink, deviceMeta, type DeviceLink } from '@fieldlink/device';
import { securedHub, type Secured } from '../../packages/hub/test/security/fixture.js';
import { buildDashboard, launchChromium, startCuttableProxy, type CuttableProxy } from './browser.js';

const tmp = mkdtempSync(join(tmpdir(), 'fl-dash-auth-'));
const shots = process.env.FIELDLINK_SCREENSHOTS_DIR ?? join(tmp, 'shots');
let sec: Secured;
let device: DeviceLink;
let ticker: ReturnType<typeof setInterval>;
let proxy: CuttableProxy;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  const outDir = join(tmp, 'public');
  await buildDashboard(outDir);
  sec = await securedHub({ dashboardDir: outDir });
  device = createLink({
    url: `mqtt://127.0.0.1:${sec.hub.mqttPort}`,
    deviceId: 'd1',
    secret: sec.secret.d1,
    meta: deviceMeta('VEML7700 (emulated)'),
    onCommand: (method) => Promise.resolve({ method, done: true }),
  });
  await device.start();
  ticker = setInterval(() => void device.telemetry({ lux: 100 + Math.round(Math.random() * 100) / 10 }, Date.now()).catch(() => undefined), 200);
  proxy = await startCuttableProxy(Number(new URL(sec.hub.url).port));
  browser = await launchChromium({ viewport: { width: 900, height: 600 } });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(15_000);
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  clearInterval(ticker);
  await browser?.close();
  await proxy?.close();
  await device?.stop({ graceful: false });
  await sec?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const form = () => page.locator('form.login-form');
const loginError = () => page.locator('.login-error');

/** Fills the form and submits it with Enter, as a keyboard user would. */
async function submitLogin(user: string, password: string): Promise<void> {
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await page.press('input[name="password"]', 'Enter');
}

test('no session: the login form, focused on the user field, with autocomplete hints', async () => {
  await page.goto(`${proxy.url}/#/devices`);
  await form().waitFor();
  assert.equal(await page.locator('input[name="username"]').getAttribute('autocomplete'), 'username');
  assert.equal(await page.locator('input[name="password"]').getAttribute('autocomplete'), 'current-password');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'username');
  assert.equal(await page.locator('tr[data-device]').count(), 0, 'no device is shown before login');
  await page.screenshot({ path: join(shots, 'login.png') });
});

test('a wrong password shows 3001 BAD_CREDENTIALS; repeated failures show RATE_LIMITED with its message', async () => {
  await submitLogin('vera', 'not-her-password');
  await loginError().waitFor();
  assert.match(await loginError().innerText(), /^3001 BAD_CREDENTIALS/);
  assert.equal(await page.inputValue('input[name="password"]'), '', 'the password field is cleared');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'password', 'focus goes back to the password');
  await page.screenshot({ path: join(shots, 'login-error.png') });

  // Another name, so vera's own allowance is untouched: five free failures, then the backoff.
  for (let i = 0; i < 6; i++) {
    const status = await page.evaluate(async () => (await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"mallory","password":"guess"}' })).status);
    assert.ok(status === 401 || status === 429, `status ${status}`);
  }
  await submitLogin('mallory', 'guess');
  await page.waitForFunction(() => /RATE_LIMITED/.test(document.querySelector('.login-error')?.textContent ?? ''));
  assert.match(await loginError().innerText(), /^2004 RATE_LIMITED: too many failed attempts.*retry in \d+ s/);
});

test('the right password shows the devices and who is logged in; the session cookie is HttpOnly', async () => {
  await submitLogin('vera', sec.passwords.vera);
  await page.locator('tr[data-device="d1"] .pill-ok').waitFor();
  await page.waitForSelector('.conn[data-state="open"]');
  const who = page.locator('.who');
  assert.equal(await who.getAttribute('data-role'), 'viewer');
  assert.match(await who.innerText(), /vera\s+viewer/);
  assert.equal(await page.evaluate(() => document.cookie.includes('fl_session')), false, 'document.cookie cannot read the session');
  const cookie = (await browser.context.cookies()).find((c) => c.name === 'fl_session');
  assert.ok(cookie, 'the session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
});

test('a viewer sees the charts, but the command and publish forms are disabled with a note; FORBIDDEN is shown if sent anyway', async () => {
  await page.locator('tr[data-device="d1"] a').click();
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-metric="lux"]')?.dataset.points) > 3);
  assert.match(await page.locator('#cmd-blocked').innerText(), /Your role viewer cannot send commands/);
  const identify = page.locator('form[data-method="identify"]');
  assert.equal(await identify.locator('button[type="submit"]').isDisabled(), true);
  assert.equal(await page.locator('form[data-method="set_interval"] input[name="ms"]').isDisabled(), true);
  await page.locator('section[aria-labelledby="cmd-h"]').screenshot({ path: join(shots, 'device-viewer.png') });

  // The hub decides, not the page: with the form forced open, the call comes back FORBIDDEN and says so.
  await identify.locator('fieldset').evaluate((f: HTMLFieldSetElement) => (f.disabled = false));
  await identify.locator('button[type="submit"]').click();
  await identify.locator('output.answer.bad').waitFor();
  assert.match(await identify.locator('output').innerText(), /3002 FORBIDDEN/);

  await page.click('nav a[href="#/explorer"]');
  assert.match(await page.locator('#pub-blocked').innerText(), /Your role viewer cannot publish/);
  assert.equal(await page.locator('form.publish button[type="submit"]').isDisabled(), true);
  await page.fill('input[name="filter"]', 'devices/d1/#');
  await page.click('form[aria-label="Subscribe"] button[type="submit"]');
  await page.locator('li.msg[data-topic="devices/d1/telemetry"]').first().waitFor();
});

test('logout returns to the login form and ends the session', async () => {
  await page.click('.who button');
  await form().waitFor();
  assert.equal((await browser.context.cookies()).some((c) => c.name === 'fl_session' && c.value !== ''), false, 'the cookie is cleared');
  assert.equal(await page.evaluate(async () => (await fetch('/api/v1/session')).status), 401);
  assert.equal(await page.locator('.who').count(), 0);
});

test('an operator can send commands', async () => {
  await submitLogin('otto', sec.passwords.otto);
  await page.waitForSelector('.conn[data-state="open"]');
  assert.equal(await page.locator('.who').getAttribute('data-role'), 'operator');
  await page.goto(`${proxy.url}/#/devices/d1`);
  const identify = page.locator('form[data-method="identify"]');
  await identify.locator('button[type="submit"]:not([disabled])').click();
  await identify.locator('output.answer.ok').waitFor();
  assert.match(await identify.locator('output').innerText(), /"done": true/);
  assert.equal(await page.locator('#cmd-blocked').count(), 0);
});

test('when the hub no longer accepts the session, the page goes back to the login form with the reason', async () => {
  proxy.cut();
  await page.waitForSelector('.conn:not([data-state="open"])');
  sec.hub.security.sessions.revokeFor('user', 'otto'); // as `fieldlink user passwd otto` does
  proxy.restore();
  await loginError().waitFor({ timeout: 30_000 }); // the client's backoff is at most 10 s
  assert.match(await loginError().innerText(), /^3000 UNAUTHENTICATED/);
  await submitLogin('otto', sec.passwords.otto);
  await page.waitForSelector('.conn[data-state="open"]');
  await page.locator('form[data-method="identify"]').waitFor();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
