// A web page tries to use the gateway, in a real browser (Debian's Chromium, playwright-core).
// Run by tests/gateway/security.rs with SWITCHYARD_URL, ATTACKER_PORT and TRUSTED_PORT (the
// gateway's allowed-origins lists http://127.0.0.1:TRUSTED_PORT). Two local pages:
// - the attacker's, on another local origin: a no-cors fetch with a text/plain body, a form
//   POST, a sendBeacon; and a DNS-rebinding page: served as http://evil.example:GWPORT/ (the
//   browser resolves evil.example to 127.0.0.1), whose same-origin fetches then reach the
//   gateway naming evil.example as their Host;
// - the trusted one: an allowed origin whose fetch goes through CORS and reads the answer.
// Prints one JSON line: what the pages could see. The Rust test checks what reached the
// provider and what the gateway refused.
import { chromium } from 'playwright-core';
import http from 'node:http';

const gateway = process.env.SWITCHYARD_URL;
const attackerPort = Number(process.env.ATTACKER_PORT);
const trustedPort = Number(process.env.TRUSTED_PORT);
if (!gateway || !attackerPort || !trustedPort) throw new Error('SWITCHYARD_URL, ATTACKER_PORT and TRUSTED_PORT are required');
const gatewayPort = new URL(gateway).port;

const body = (marker) => JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: marker }] });

// The attacker's page: every request a page can send without a CORS preflight.
const attackerPage = `<!doctype html><title>attacker</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${gateway}/v1/chat/completions" enctype="text/plain" target="sink">
  <input name='{"model":"mock/m","messages":[{"role":"user","content":"form-post"}],"x":"' value='"}'>
</form>
<script>
  window.attacks = (async () => {
    await fetch('${gateway}/v1/chat/completions', { method: 'POST', mode: 'no-cors',
      headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body('no-cors-fetch'))} }).catch(() => {});
    const loaded = new Promise((resolve) => document.querySelector('iframe').addEventListener('load', resolve, { once: true }));
    document.getElementById('f').submit();
    await loaded;
    navigator.sendBeacon('${gateway}/v1/chat/completions', ${JSON.stringify(body('beacon'))});
    return 'sent';
  })();
</script>`;

const trustedPage = `<!doctype html><title>trusted</title><script>
  window.result = fetch('${gateway}/v1/chat/completions', { method: 'POST',
    headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body('trusted-page'))} })
    .then(async (r) => ({ status: r.status, text: await r.text() }))
    .catch((e) => ({ status: 0, text: String(e) }));
</script>`;

function servePage(port, html) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const servers = [await servePage(attackerPort, attackerPage), await servePage(trustedPort, trustedPage)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic', '--host-resolver-rules=MAP evil.example 127.0.0.1',
    // Chromium's own Local Network Access checks would stop the rebound page before the
    // gateway sees it; Firefox and Safari have none, so the gateway must stand alone.
    '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults'],
});
const result = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();

  await page.goto(`http://127.0.0.1:${attackerPort}/`);
  result.attacks = await page.evaluate(() => window.attacks);
  // Give the beacon time to leave before the page goes away.
  await page.waitForTimeout(300);

  // DNS rebinding: the page arrives from "the attacker's server" at evil.example:GWPORT
  // (played by the route), then evil.example resolves to the gateway's address.
  const rebound = `http://evil.example:${gatewayPort}/`;
  await page.route(rebound, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>rebound</title>' }));
  await page.goto(rebound);
  await page.unroute(rebound);
  result.rebound = await page.evaluate(async (marker) => {
    const post = await fetch('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: marker }] }) });
    const get = await fetch('/api/session');
    return { post: post.status, get: get.status, message: (await post.json()).error?.message };
  }, 'rebound-post');

  await page.goto(`http://127.0.0.1:${trustedPort}/`);
  result.trusted = await page.evaluate(() => window.result);
} finally {
  await browser.close();
  servers.forEach((s) => s.close());
}
console.log(JSON.stringify(result));
