// Drives the embed widget in headless Chromium: the page from an allowed site gets a working
// chat (launcher, panel, keyboard, an answer from the corpus with its sources, no style leaks);
// the page from another site gets no widget and its own request to chat/ is refused.
// Usage: node widget_browser.mjs <allowed page URL> <disallowed page URL> <chat URL> <key> <screenshot.png>
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [allowedUrl, deniedUrl, chatUrl, key, screenshot] = process.argv.slice(2);
const expected = process.env.EXPECTED_ANSWER;
const question = process.env.QUESTION;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  await page.goto(allowedUrl);

  // The launcher appears once config/ answered; it is a real, labelled button.
  const launcher = page.locator('[data-plughost-embed] .launcher');
  await launcher.waitFor({ state: 'visible', timeout: 15000 });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  assert.match(await launcher.getAttribute('aria-label'), /^Open chat: /);
  // The page's `button { background: red !important }` does not reach into the shadow root.
  const launcherBg = await launcher.evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(launcherBg, 'rgb(17, 34, 51)', 'launcher colour is the embed primary_color');

  // Keyboard: focus the launcher and open with Enter; the message box gets the focus.
  await launcher.focus();
  await page.keyboard.press('Enter');
  const panel = page.locator('[data-plughost-embed] .panel');
  await panel.waitFor({ state: 'visible' });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('[data-plughost-embed] h2').textContent(), 'Help Desk');
  const input = page.locator('[data-plughost-embed] textarea');
  assert.equal(await input.evaluate((el) => el.getRootNode().activeElement === el), true);
  assert.equal(await input.getAttribute('placeholder'), 'Ask about the docs');
  await page.locator('[data-plughost-embed] .msg.bot').first().waitFor();
  assert.equal(await page.locator('[data-plughost-embed] .msg.bot').first().textContent(),
               'Welcome to the help desk!');

  // Send a question with the keyboard; the answer from the corpus is rendered with its source.
  await page.keyboard.type(question);
  await page.keyboard.press('Enter');
  const reply = page.locator('[data-plughost-embed] .msg.bot').nth(1);
  await reply.waitFor({ timeout: 15000 });
  const replyText = await reply.textContent();
  assert.ok(replyText.includes(expected), `answer "${replyText}" should contain "${expected}"`);
  assert.match(replyText, /Sources: /);
  assert.equal(await page.locator('[data-plughost-embed] .msg.user').textContent(), question);
  const session = await page.evaluate(() => Object.keys(sessionStorage)
    .filter((k) => k.startsWith('plughost-embed-session:')).map((k) => sessionStorage.getItem(k))[0]);
  assert.match(session || '', /^emb_[A-Za-z0-9]{32}$/, 'the session id is kept for the tab');

  // The widget's styles stay inside: the page's own .msg keeps its colour and size.
  const pageMsg = await page.locator('#page-msg').evaluate((p) => getComputedStyle(p).color);
  assert.equal(pageMsg, 'rgb(0, 128, 0)');

  await page.screenshot({ path: screenshot });

  // Escape closes the panel and gives the focus back to the launcher.
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await launcher.evaluate((el) => el.getRootNode().activeElement === el), true);
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');

  // Another site: the preflight of config/ is refused (403, no CORS headers), so the widget only
  // warns in the console and renders nothing; a direct call to chat/ is refused too.
  const other = await browser.newPage();
  const warned = other.waitForEvent('console', (m) => m.text().startsWith('plughost embed help'));
  await other.goto(deniedUrl);
  await warned;
  assert.equal(await other.locator('[data-plughost-embed]').count(), 0);
  const direct = await other.evaluate(async ([url, k]) => {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'X-API-Key': k, 'Content-Type': 'application/json' },
                                   body: JSON.stringify({ message: 'hello' }) });
      return 'status ' + r.status;
    } catch (e) {
      return 'blocked';
    }
  }, [chatUrl, key]);
  assert.equal(direct, 'blocked', 'the browser gives the other site no answer');
  console.log(`widget browser test passed; screenshot: ${screenshot}`);
} finally {
  await browser.close();
}
