#!/usr/bin/env node
// Checks carnet's endorser page (/endorse/{token}) in a real browser: Debian's
// Chromium (/usr/bin/chromium) driven by playwright-core, with the axe-core
// accessibility engine (WCAG 2.0 and 2.1, A and AA, plus best practices), as
// page_check.mjs does for /verify. For each language (fr, en):
//   1. the form (axe-core);
//   2. the form sent without the consent box ticked (the browser's own
//      `required` check is lifted so the server answers): a 422 page with the
//      problems (axe-core); nothing is stored, the link stays usable;
// then, once, in the last language: the form filled with the keyboard and sent
// (a 200 thank-you page, axe-core) and the same link opened again (410 page,
// axe-core).
//
// The page is in carnet's page shell: its header (the institution's name, then
// the language switch) comes before the form, its footer links after it. From
// the top of the page, the keyboard must meet the shell's three header links,
// then the form's first field; from there, one Tab per field to the button.
//
// Every page is also measured 320 px wide (the smallest phone screen): nothing
// may scroll sideways (document.documentElement.scrollWidth <= innerWidth).
//
// The page's Content-Security-Policy forbids every script, so the browser
// contexts are created with `bypassCSP: true` only to let axe-core be injected.
//
// Prints one JSON line:
//   {"ok": bool, "pages": [{"kind", "lang", "status", "violations": [...], "passes": n,
//    "width_320": {"scroll_width", "inner_width"}}], "keyboard": {"before_form": [...]},
//    "error": str|null, "versions": {...}}
// Exit status: 0 the checks ran (whatever they found), 1 crash, 2 usage error.
import path from 'node:path';
import {parseArgs} from 'node:util';

import {load, packageVersion} from './lib/deps.mjs';

const USAGE = `\
usage: node endorse_page_check.mjs --link URL [--chromium PATH]

  --link URL        an unused endorsement link ({base}/endorse/{token}); it is used at the end
  --chromium PATH   the browser (default: /usr/bin/chromium)`;

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const VIEWPORT = {width: 1280, height: 2400};
const NARROW = {width: 320, height: 800};

let opts;
try {
  ({values: opts} = parseArgs({options: {
    link: {type: 'string'},
    chromium: {type: 'string', default: '/usr/bin/chromium'},
  }, strict: true}));
} catch(e) {
  process.stderr.write(`${e.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if(!opts.link) {
  process.stderr.write(`--link is required\n\n${USAGE}\n`);
  process.exit(2);
}

async function runAxe(page, axeSource) {
  await page.addScriptTag({content: axeSource});
  return page.evaluate(async tags => {
    const r = await window.axe.run(document, {
      runOnly: {type: 'tag', values: tags},
      resultTypes: ['violations'],
    });
    return {
      passes: r.passes.length,
      violations: r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
      })),
    };
  }, AXE_TAGS);
}

/** The page's width at 320 px: whether anything scrolls sideways. */
async function widthAt320(page) {
  await page.setViewportSize(NARROW);
  const width = await page.evaluate(() => ({
    scroll_width: document.documentElement.scrollWidth,
    inner_width: window.innerWidth,
  }));
  await page.setViewportSize(VIEWPORT);
  return width;
}

const out = {ok: false, pages: [], keyboard: null, error: null};
let browser;
try {
  const pw = await load('playwright-core');
  const chromium = pw.chromium || (pw.default && pw.default.chromium);
  const axeModule = await load('axe-core');
  const axeSource = (axeModule.default || axeModule).source;
  out.versions = {
    'playwright-core': packageVersion('playwright-core'),
    'axe-core': packageVersion('axe-core'),
  };
  browser = await chromium.launch({
    executablePath: path.resolve(opts.chromium), args: ['--no-sandbox'], headless: true,
  });
  const context = await browser.newContext({bypassCSP: true, viewport: VIEWPORT});
  const page = await context.newPage();
  const record = async (kind, lang, response) => {
    const axe = await runAxe(page, axeSource);
    const width_320 = await widthAt320(page);
    out.pages.push({kind, lang, status: response ? response.status() : null, ...axe, width_320});
  };
  const langs = ['fr', 'en'];
  for(const lang of langs) {
    const url = `${opts.link}?lang=${lang}`;
    await record('form', lang, await page.goto(url));
    await page.fill('#name', 'Marc Dupont');
    await page.fill('#role', 'Tuteur de stage');
    await page.fill('#recommendation', 'Léa range son poste.');
    await page.evaluate(() => document.querySelector('#consent').removeAttribute('required'));
    const [resp] = await Promise.all([
      page.waitForNavigation(),
      page.click('button[type=submit]'),
    ]);
    await record('form-error', lang, resp);
  }
  const last = langs[langs.length - 1];
  await page.goto(`${opts.link}?lang=${last}`);
  // the keyboard only, from the top of the page: the stops before the first field (the shell's
  // header adds three: the institution's name, Français, English), then type, Tab from field to
  // field, Space, Enter
  const beforeForm = [];
  for(let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => {
      const el = document.activeElement;
      return {id: el.id, in_header: !!el.closest('header.site-header'), text: el.textContent.trim()};
    });
    if(at.id === 'name') {
      break;
    }
    beforeForm.push(at);
  }
  out.keyboard = {before_form: beforeForm};
  await page.keyboard.type('Marc Dupont');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Tuteur de stage');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Léa range son poste.');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  const [sent] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await record('thanks', last, sent);
  await record('used', last, await page.goto(`${opts.link}?lang=${last}`));
  await context.close();
  const expected = {form: 200, 'form-error': 422, thanks: 200, used: 410};
  out.ok = out.pages.every(p => p.violations.length === 0 && p.status === expected[p.kind]
      && p.width_320.scroll_width <= p.width_320.inner_width)
    && beforeForm.length === 3 && beforeForm.every(stop => stop.in_header);
} catch(e) {
  out.error = (e && e.stack) || String(e);
  if(browser) {
    await browser.close().catch(() => {});
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(1);
}
await browser.close();
process.stdout.write(JSON.stringify(out) + '\n');
