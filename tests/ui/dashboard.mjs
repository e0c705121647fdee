// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
// `switchyard serve` and the project's mock provider. Run by tests/gateway/dashboard_ui.rs with
// SWITCHYARD_URL, MOCK_URL (an OpenAI-compatible base URL) and SHOTS_DIR (screenshots go there).
// A user's path: set the password, add a provider and a key, build a combo, send requests, watch
// them arrive in Usage (log and chart) live, require keys, revoke one, log out and back in;
// every page at 900x600 without a horizontal scrollbar, light and dark. Prints one JSON line
// of measurements (time to first render) at the end; any failed step exits non-zero.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const url = process.env.SWITCHYARD_URL;
const mockUrl = process.env.MOCK_URL;
const shots = process.env.SHOTS_DIR || 'target/ui-screenshots';
const password = 'browser test password';
if (!url || !mockUrl) throw new Error('SWITCHYARD_URL and MOCK_URL are required');
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// Chromium logs every 4xx the page asked for ("Failed to load resource"); the test provokes
// some on purpose and checks each one's message on the page, so only other errors count.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
});
const step = (name) => console.log(`step: ${name}`);

async function shot(name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}
async function goto(hash) {
  await page.click(`nav a[href="#/${hash}"]`);
  await page.waitForSelector(`nav a[href="#/${hash}"][aria-current="page"]`);
}
async function noHorizontalScroll(name) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) throw new Error(`${name}: the page is ${overflow}px wider than a 900px window`);
}
// The chart drew a series line that rises somewhere (not flat, no NaN in its path).
async function chartHasRisingLine() {
  await page.waitForFunction(() => [...document.querySelectorAll('#usage-chart ._chartistry_series path')]
    .some((p) => !(p.getAttribute('d') || '').includes('NaN') && p.getBBox().height > 1), null, { timeout: 15000 });
}
async function chat(key, model, n = 1) {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `hello ${i}` }] }),
    });
    await r.text();
    if (n === 1) return r.status;
    if (r.status !== 200) throw new Error(`chat ${i} answered ${r.status}`);
  }
  return 200;
}

/** A request whose tool result is a long build log: the token saver compresses it. */
async function chatWithToolOutput(key, model) {
  const log = Array.from({ length: 300 }, (_, i) => `   Compiling crate-${i} v1.0.${i}`).join('\n') + '\nerror: could not compile `app`';
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [
      { role: 'user', content: 'build it' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'sh', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: log },
    ] }),
  });
  await r.text();
  return r.status;
}

let firstRenderMs, wasmInitMs;
try {
  // 1. First visit: set the password; the overview opens. Time to first render measured.
  step('first visit');
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector('#password');
  firstRenderMs = Date.now() - t0;
  wasmInitMs = await page.evaluate(() => window.__switchyardReady);
  await shot('login-setup');
  await page.fill('#password', password);
  await page.fill('#repeat', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#endpoint-url');
  const endpoint = await page.textContent('#endpoint-url');
  if (endpoint.trim() !== url) throw new Error(`endpoint shown ${endpoint}, expected ${url}`);

  // 2. Providers: a custom OpenAI-compatible provider with its key.
  step('add a provider');
  await goto('providers');
  await page.selectOption('#provider-choice', 'custom:openai');
  await page.fill('#provider-id', 'mockai');
  await page.fill('#base-url', mockUrl);
  await page.fill('#models', 'mock-model');
  await page.fill('#api-key', 'mock-key-1234567890');
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-provider="mockai"]');
  await page.waitForSelector('[data-provider="mockai"] .account code');
  const hint = await page.textContent('[data-provider="mockai"] .account code');
  if (hint.includes('mock-key-1234567890')) throw new Error('the whole API key is shown');
  // Subscription logins: a button per provider, each with its terms risk beside it.
  const logins = await page.$$eval('[data-login]', (rows) => rows.map((r) => r.getAttribute('data-login')));
  for (const p of ['claude', 'codex', 'copilot', 'gemini-cli', 'qwen', 'kiro']) {
    if (!logins.includes(p)) throw new Error(`no ${p} login on the Providers page: ${logins}`);
  }
  const risk = await page.textContent('[data-login="claude"] .risk');
  if (!risk.includes('Anthropic')) throw new Error(`no terms risk beside the Claude login: ${risk}`);
  const geminiRisk = await page.textContent('[data-login="gemini-cli"] .risk');
  if (!geminiRisk.includes('HIGH RISK')) throw new Error(`Gemini CLI's login is not marked high risk: ${geminiRisk}`);
  // A login's own settings beside it: Kiro's Identity Center region, checked by the gateway.
  const region = '[data-login="kiro"] [id="setting-login.kiro.region"]';
  const regionForm = `[data-login="kiro"] form.setting:has([id="setting-login.kiro.region"])`;
  await page.fill(region, 'Frankfurt');
  await page.click(`${regionForm} button`);
  await page.waitForSelector(`${regionForm} .error`);
  await page.fill(region, 'eu-central-1');
  await page.click(`${regionForm} button`);
  await page.waitForSelector(`${regionForm} .ok`);
  // A login imported from this machine: its row shows the plan, the token's expiry and, read
  // now, its quota windows (the 5-hour one used up).
  await page.click('[data-login="claude"] button:has-text("Import from this machine")');
  await page.waitForSelector('[data-login-account]');
  const details = await page.textContent('[data-login-account]');
  if (!details.includes('max') || !details.includes('token renews within')) throw new Error(`login details: ${details}`);
  await page.click('[data-login-account] button:has-text("Read quota")');
  await page.waitForSelector('[data-login-account] .quota-window.used-up[data-window="5h"]');
  const weekly = await page.textContent('[data-login-account] [data-window="weekly"]');
  if (!weekly.includes('41 % used')) throw new Error(`weekly window: ${weekly}`);
  await noHorizontalScroll('providers');
  await shot('providers');

  // 3. Keys: create one; it is shown once.
  step('create a key');
  await goto('keys');
  await page.fill('#key-name', 'browser');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#created-key');
  const key = (await page.textContent('#created-key')).trim();
  if (!key.startsWith('sk-sy-')) throw new Error(`unexpected key ${key}`);
  await page.waitForSelector('[data-key="browser"]');
  await shot('keys');

  // 4. Combos: one with the provider's model, through the editor (typed, added, saved).
  step('create a combo');
  await goto('combos');
  await page.fill('#combo-name', 'coding');
  await page.fill('#combo-add', 'mockai/mock-model');
  await page.press('#combo-add', 'Enter');
  await page.waitForSelector('ol.ordered li code.member');
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-combo="coding"]');
  await page.click('[data-combo="coding"] button:has-text("Test")');
  await page.waitForSelector('[data-combo="coding"] p.ok:has-text("Answered in")');
  await noHorizontalScroll('combos');
  await shot('combos');

  // 5. Requests through the combo show up in Usage: the log, the totals and the chart, live.
  step('usage');
  await goto('usage');
  await page.waitForSelector('#chart-empty, #usage-chart');
  await chat(key, 'coding', 3);
  await page.waitForFunction(() => document.querySelectorAll('#request-log tbody tr').length >= 3, null, { timeout: 15000 });
  const logText = await page.textContent('#request-log');
  if (!logText.includes('coding') || !logText.includes('mockai/mock-model')) throw new Error(`log lacks the requests: ${logText}`);
  // Requests, stacked by provider: one line of the chart, rising where the requests were.
  await page.selectOption('#usage-metric', 'requests');
  await chartHasRisingLine();
  const totals = await page.textContent('#usage-totals');
  if (!totals.includes('mockai')) throw new Error(`totals lack the provider: ${totals}`);
  await page.selectOption('#usage-metric', 'tokens');
  await page.selectOption('#usage-by', 'model');
  await chartHasRisingLine();
  await noHorizontalScroll('usage');
  await shot('usage');

  // 6. The overview counts a request sent while it is open, without a reload.
  step('live overview');
  await goto('overview');
  await page.waitForSelector('#stat-requests');
  const before = Number(await page.textContent('#stat-requests'));
  if (await chat(key, 'coding') !== 200) throw new Error('request failed');
  await page.waitForFunction((n) => Number(document.querySelector('#stat-requests')?.textContent) > n, before, { timeout: 10000 });
  // A long tool output is compressed on its way; the tokens saved show up live.
  if (await chatWithToolOutput(key, 'coding') !== 200) throw new Error('request with a tool output failed');
  await page.waitForFunction(() => {
    // The dashboard writes 12.3k and 1.2M for large counts.
    const t = document.querySelector('#stat-saved')?.textContent || '0';
    return parseFloat(t) * (t.endsWith('M') ? 1e6 : t.endsWith('k') ? 1e3 : 1) > 1000;
  }, null, { timeout: 10000 });
  await noHorizontalScroll('overview');
  await shot('overview');

  // 7. Tools and settings; require a key (from the Settings page), then revoke ours.
  step('settings and revoke');
  await goto('tools');
  await page.waitForSelector('.tool pre');
  // One-click setup: Preview shows the diff; Apply writes Claude Code's settings (in the
  // test's own HOME); Restore puts them back.
  await page.selectOption('#tool-model', 'coding');
  await page.click('[data-tool="claude-code"] button.preview');
  await page.waitForSelector('[data-tool="claude-code"] pre.diff');
  const diff = await page.textContent('[data-tool="claude-code"] pre.diff');
  if (!diff.includes('+') || !diff.includes(`"ANTHROPIC_BASE_URL": "${url}"`) || !diff.includes('"coding"')) throw new Error(`preview: ${diff}`);
  await page.click('[data-tool="claude-code"] button.apply');
  await page.waitForFunction(() => document.querySelector('[data-tool="claude-code"] .state')?.textContent.includes('set up, model coding'));
  await noHorizontalScroll('tools');
  await shot('tools');
  await page.click('[data-tool="claude-code"] button.restore');
  await page.waitForFunction(() => document.querySelector('[data-tool="claude-code"] .state')?.textContent.includes('not set up'));
  await goto('settings');
  await page.fill('#setting-require-key', 'nonsense');
  await page.click('form.setting:has(#setting-require-key) button');
  await page.waitForSelector('form.setting:has(#setting-require-key) .error');
  await page.fill('#setting-require-key', 'true');
  await page.click('form.setting:has(#setting-require-key) button');
  await page.waitForSelector('form.setting:has(#setting-require-key) .ok');
  const dataDir = await page.textContent('#data-dir');
  if (!dataDir.includes('data')) throw new Error(`data folder shown as ${dataDir}`);
  await noHorizontalScroll('settings');
  await shot('settings');
  // A change saved in the dashboard is in force when its answer returns: no waiting.
  if (await chat(null, 'coding') !== 401) throw new Error('a request without a key was not refused');
  if (await chat(key, 'coding') !== 200) throw new Error('the key did not work');
  await goto('keys');
  await page.click('[data-key="browser"] button.danger');
  await page.waitForSelector('[data-key="browser"].failed');
  if (await chat(key, 'coding') !== 401) throw new Error('the revoked key still works');

  // 8. Dark theme, then log out and in again (a wrong password first).
  step('theme and login');
  await goto('settings');
  await page.selectOption('#theme', 'dark');
  await goto('usage');
  await page.selectOption('#usage-metric', 'requests');
  await chartHasRisingLine();
  await shot('usage-dark');
  await page.click('nav button');
  await page.waitForSelector('#password');
  await page.fill('#password', 'wrong password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.login .error');
  await shot('login');
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  // Back in, on the page the address names (#/usage).
  await page.waitForSelector('nav a[href="#/usage"][aria-current="page"]');

} catch (e) {
  // What the page showed when a step failed: a screenshot and its text.
  await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  console.log(`page at failure:\n${await page.innerText('body').catch(() => '?')}`);
  console.log(`chart: ${await page.evaluate(() => [...document.querySelectorAll('#usage-chart path')].map((p) => p.getAttribute('class') + ' ' + p.getAttribute('d')).join('\n')).catch(() => '?')}`);
  console.log(problems.join('\n'));
  await browser.close();
  throw e;
}
await browser.close();
if (problems.length) throw new Error(problems.join('\n'));
console.log(JSON.stringify({ result: 'ok', first_render_ms: firstRenderMs, wasm_init_ms: Math.round(wasmInitMs) }));
