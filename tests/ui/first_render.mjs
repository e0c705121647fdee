// Time to first render of the dashboard, for the dashboard benchmark (tests/bench/dashboard.rs):
// N cold loads (a fresh browser context each: no cache, no cookie) in Debian's Chromium, timed
// from navigation to the login form, then logged in, to the overview's numbers. Prints JSON.
// Usage: node tests/ui/first_render.mjs URL PASSWORD N
import { chromium } from 'playwright-core';

const [url, password, runs] = [process.argv[2], process.argv[3], Number(process.argv[4] || 10)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const login = [];
const overview = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('#password');
  login.push(performance.now() - t0);
  await page.fill('#password', password);
  const t1 = performance.now();
  await page.click('button[type=submit]');
  await page.waitForSelector('#stat-requests');
  overview.push(performance.now() - t1);
  await context.close();
}
await browser.close();
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: Math.round(s[Math.floor(s.length / 2)]), max: Math.round(s[s.length - 1]) };
};
console.log(JSON.stringify({ runs, first_render_ms: stats(login), login_to_overview_ms: stats(overview) }));
