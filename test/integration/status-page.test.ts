/**
 * The status page in a real browser: Debian's Chromium, headless, driven by playwright-core. Three instances
 * of the sessionization example serve it; the page served by one of them lists the three with their tasks,
 * and redraws with two once one instance closes. It writes a screenshot (test-results/status-page.png; with
 * KSTREAMS_UPDATE_SCREENSHOTS=1 also docs/images/status-page.png, the README's).
 * Skips, saying so, where /usr/bin/chromium is missing (`.ci/run` installs it: `apt-get install chromium`).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/local-kafka.js';
import { SessionizeHarness, eventually, waitForState, type Instance } from './sessionize-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`[status-page] skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let harness: SessionizeHarness | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await harness?.cleanup();
});

describe.skipIf(!haveChromium)('status page', () => {
  it('shows the group’s three instances with their tasks, and redraws when one stops', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const instances: Instance[] = [];
    const servers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const server = `127.0.0.1:${await freePort()}`;
      servers.push(server);
      instances.push(await h.start(h.newStateDir(), { applicationServer: server, queryServer: true, numStandbyReplicas: 1 }));
    }
    await h.produce(SessionizeHarness.events(3000, 17));
    await h.waitForLagZero(90_000);
    for (const i of instances) await waitForState(i.app, 'RUNNING');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Without the background-networking flags Chromium's own connections are refused on an offline machine.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(`http://${servers[0]}/status`);
    const rows = page.locator('#instances tbody tr');
    const running = page.locator('#instances tbody tr td.RUNNING');
    await eventually(async () => (await rows.count()) === 3 && (await running.count()) === 3, 'three running instances on the page', 30_000);
    const listed = await page.locator('#instances tbody tr td:first-child').allTextContents();
    expect([...listed].sort()).toEqual([...servers].sort());
    // Every task is shown active on one instance; standby replicas too; the topology diagram loads.
    const roles = await page.locator('#tasks tbody tr td:nth-child(3)').allTextContents();
    expect(roles.filter((r) => r === 'active')).toHaveLength(12);
    expect(roles.filter((r) => r === 'standby').length).toBeGreaterThan(0);
    expect(await page.locator('#topology img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await eventually(async () => (await page.locator('#instances tbody tr td.num').allTextContents()).some((t) => /\d/.test(t)), 'figures on the page', 10_000);

    mkdirSync(resolve('test-results'), { recursive: true });
    const shot = resolve('test-results/status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.KSTREAMS_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(resolve('docs/images'), { recursive: true });
      copyFileSync(shot, resolve('docs/images/status-page.png'));
    }

    // One instance stops (a clean close leaves the group): the page lists two, without a reload.
    await instances[2]!.app.close();
    await eventually(async () => (await rows.count()) === 2 && (await running.count()) === 2, 'two instances on the page after one stopped', 60_000);
    const after = await page.locator('#instances tbody tr td:first-child').allTextContents();
    expect([...after].sort()).toEqual([servers[0], servers[1]].sort());
    expect(consoleErrors).toEqual([]);
  });
});
