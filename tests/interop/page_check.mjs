#!/usr/bin/env node
// Checks carnet's public /verify page in a real browser: Debian's Chromium
// (/usr/bin/chromium, installed by scripts/setup-interop.sh), driven by
// playwright-core, with the axe-core accessibility engine. Playwright never
// downloads a browser here.
//
// First, axe-core on a canary page made to fail (it must report color-contrast,
// html-has-lang and image-alt: the engine and the rendering work). Then for each
// language (fr, en):
//   1. opens /verify?lang=LANG and runs axe-core (WCAG 2.0 and 2.1, A and AA,
//      plus best practices); sends the form empty (Enter on the button) and runs
//      axe-core on the error;
//   2. keyboard only: presses Tab from the top of the page and records every
//      focus stop (the file input, the textarea, the email input and the submit
//      button must come in that order), and whether each stop is visibly
//      focused (:focus-visible, an outline, and pixels that change on focus);
//   3. puts the baked PNG in the file input, focuses the submit button, presses
//      Enter, waits for the answer, reads the verdict sentence (`.verdict p`)
//      and runs axe-core on the answer page (its <details> opened);
//   4. with --revoked-png: the same upload for a revoked badge (its verdict, and
//      axe-core on that answer, whose box has other colours);
//   5. with JavaScript disabled (and the page's Content-Security-Policy in
//      force): the upload and the submit still give the verdict.
//
// axe-core is injected with page.addScriptTag. The page sends a strict
// Content-Security-Policy (`default-src 'none'`) that forbids any script, so
// the contexts that run axe are created with `bypassCSP: true`, only to let the
// axe injection run; the no-JavaScript context keeps the CSP in force.
//
// Prints one JSON line:
//   {"ok": bool, "pages": [{"kind": "form"|"form-error"|"answer"|"revoked", "lang", "url",
//     "status", "html_lang", "violations": [{"id","impact","help","nodes","targets"}],
//     "passes": n, "incomplete": ["rule id", ...], "verdict": "..."|null}],
//    "keyboard": [{"lang", "stops": [{"target","focus_visible","outline","pixels_change"}],
//     "order_ok": bool}],
//    "nojs": [{"lang", "javascript": false, "verdict", "console_errors": [...]}],
//    "axe_canary": ["rule id", ...], "browser": "...", "versions": {...}, "ms": n,
//    "problems": [...]}
// "ok" is a summary (no violations, keyboard order and focus visible, authentic
// verdicts, the no-JavaScript verdicts); the Rust test (tests/page_browser.rs)
// judges each part itself.
// Exit status: 0 the checks ran (whatever they found), 1 crash, 2 usage error.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';

import {load, packageVersion} from './lib/deps.mjs';

const USAGE = `\
usage: node page_check.mjs --base URL --png FILE [--revoked-png FILE] [options]

  --base URL            the carnet server, e.g. http://127.0.0.1:8080
  --png FILE            a baked PNG of a valid badge (uploaded through the form)
  --revoked-png FILE    a baked PNG of a revoked badge (optional)
  --langs LIST          languages to check, comma-separated (default: fr,en)
  --chromium PATH       the browser (default: /usr/bin/chromium)
  --timeout-ms N        timeout of each browser step (default: 30000)`;

const CHROMIUM = '/usr/bin/chromium';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
// The form's controls, in the order Tab must reach them.
const FORM_ORDER = ['#file', '#badge', '#recipient', 'button[type=submit]'];
// Tall enough that nothing scrolls: the focus screenshots compare fixed boxes.
const VIEWPORT = {width: 1280, height: 2400};
const AUTHENTIC = {fr: 'Ce badge est authentique.', en: 'This badge is authentic.'};

function usageError(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      base: {type: 'string'},
      png: {type: 'string'},
      'revoked-png': {type: 'string'},
      langs: {type: 'string', default: 'fr,en'},
      chromium: {type: 'string', default: CHROMIUM},
      'timeout-ms': {type: 'string', default: '30000'},
      help: {type: 'boolean', short: 'h', default: false},
    },
    strict: true, allowPositionals: false,
  }).values;
} catch(e) {
  usageError(e.message);
}
if(opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if(!opts.base || !opts.png) {
  usageError('--base and --png are required');
}
const base = opts.base.replace(/\/+$/, '');
const langs = opts.langs.split(',').map(l => l.trim()).filter(Boolean);
const timeout = Number(opts['timeout-ms']);
if(!Number.isFinite(timeout) || timeout <= 0) {
  usageError('--timeout-ms must be a positive number');
}
for(const f of [opts.png, opts['revoked-png']].filter(Boolean)) {
  if(!fs.existsSync(f)) {
    usageError(`no such file: ${f}`);
  }
}

const started = Date.now();
const problems = [];
const out = {
  ok: false, pages: [], keyboard: [], nojs: [], browser: null,
  versions: {}, ms: 0, problems,
};

// ---- helpers -----------------------------------------------------------------------

/** axe-core on the current page: its violations, summarised. */
async function runAxe(page, axeSource) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if(!loaded) {
    await page.addScriptTag({content: axeSource});
  }
  return page.evaluate(async tags => {
    const r = await window.axe.run(document, {
      runOnly: {type: 'tag', values: tags},
      resultTypes: ['violations', 'incomplete'],
    });
    return {
      passes: r.passes.length,
      violations: r.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.length,
        targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
      })),
      incomplete: r.incomplete.map(v => v.id),
    };
  }, AXE_TAGS);
}

/** A short name of the focused element: `#id`, or `tag[type]`, or `a[href]`. */
function describeFocused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if(!el || el === document.body || el === document.documentElement) {
      return {target: null};
    }
    let target = el.tagName.toLowerCase();
    if(el.id) {
      target = `#${el.id}`;
    } else if(target === 'a') {
      target = `a[href="${el.getAttribute('href')}"]`;
    } else if(el.getAttribute('type')) {
      target = `${target}[type=${el.getAttribute('type')}]`;
    }
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 ?
      `${s.outlineWidth} ${s.outlineStyle} ${s.outlineColor}` : null;
    return {
      target,
      focus_visible: el.matches(':focus-visible'),
      outline,
      box_shadow: s.boxShadow !== 'none' ? s.boxShadow : null,
    };
  });
}

/** The screen area of an element with room for its focus outline (viewport pixels). */
async function focusArea(page, selector) {
  const box = await page.locator(selector).boundingBox();
  if(!box) {
    return null;
  }
  const m = 8;
  return {
    x: Math.max(0, box.x - m), y: Math.max(0, box.y - m),
    width: box.width + 2 * m, height: box.height + 2 * m,
  };
}

async function openForm(page, lang) {
  const url = `${base}/verify?lang=${lang}`;
  const resp = await page.goto(url, {waitUntil: 'load'});
  return {url, status: resp ? resp.status() : null};
}

/** Reads the answer page's verdict sentence; works with JavaScript disabled too. */
async function verdictOf(page) {
  const p = page.locator('section.verdict p').first();
  await p.waitFor({state: 'attached'});
  return (await p.textContent()).trim();
}

function htmlLang(page) {
  return page.locator('html').getAttribute('lang');
}

// ---- the checks ----------------------------------------------------------------------

/** axe-core on a page made to fail (no lang, an image without alt, grey on white text): proves
 * that the injection works and that this Chromium renders enough for the contrast rule, so that
 * "no violation" on carnet's pages means something. */
async function axeCanary(browser, axeSource) {
  const context = await browser.newContext({viewport: VIEWPORT});
  context.setDefaultTimeout(timeout);
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><html><head><title>canary</title></head><body><main>' +
      '<h1>Canary</h1><p style="color:#aaa;background:#fff">grey on white</p>' +
      '<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==">' +
      '</main></body></html>');
    const r = await runAxe(page, axeSource);
    return r.violations.map(v => v.id).sort();
  } finally {
    await context.close();
  }
}

/** Form, keyboard, upload by keyboard, answer; axe on the form and on the answer. */
async function checkLanguage(browser, axeSource, lang) {
  // bypassCSP only so that addScriptTag can inject axe-core (the page's CSP forbids scripts).
  const context = await browser.newContext({
    bypassCSP: true, viewport: VIEWPORT, locale: lang === 'en' ? 'en-GB' : 'fr-FR',
  });
  context.setDefaultTimeout(timeout);
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', e => pageErrors.push(String(e)));

    // 1. the form
    const form = await openForm(page, lang);
    const formAxe = await runAxe(page, axeSource);
    out.pages.push({
      kind: 'form', lang, url: page.url(), status: form.status,
      html_lang: await htmlLang(page), ...formAxe, verdict: null,
    });

    // 1b. the form's error (sent empty, with the keyboard), then the form again
    await page.focus('button[type=submit]');
    await Promise.all([
      page.waitForURL(u => u.pathname === '/verify' && !u.search, {waitUntil: 'load'}),
      page.keyboard.press('Enter'),
    ]);
    const errorAxe = await runAxe(page, axeSource);
    const error = page.locator('.error').first();
    out.pages.push({
      kind: 'form-error', lang, url: page.url(), status: null,
      html_lang: await htmlLang(page), ...errorAxe, verdict: null,
      error: (await error.count()) ? (await error.textContent()).trim() : null,
    });
    await openForm(page, lang);

    // 2. the keyboard alone, from the top of the page
    const before = new Map();
    for(const sel of FORM_ORDER) {
      const area = await focusArea(page, sel);
      before.set(sel, area && {area, png: await page.screenshot({clip: area})});
    }
    await page.evaluate(() => {
      if(document.activeElement) {
        document.activeElement.blur();
      }
      window.scrollTo(0, 0);
    });
    const stops = [];
    for(let i = 0; i < 20; ++i) {
      await page.keyboard.press('Tab');
      const stop = await describeFocused(page);
      const sel = FORM_ORDER.find(s => s === stop.target);
      if(sel && before.get(sel)) {
        const {area, png} = before.get(sel);
        stop.pixels_change = !png.equals(await page.screenshot({clip: area}));
      }
      stops.push(stop);
      if(stop.target === 'button[type=submit]' || stop.target === null) {
        break;
      }
    }
    const reached = stops.map(s => s.target).filter(t => FORM_ORDER.includes(t));
    const first = stops.findIndex(s => s.target === FORM_ORDER[0]);
    const order_ok = JSON.stringify(reached) === JSON.stringify(FORM_ORDER) &&
      first >= 0 && stops.length - first === FORM_ORDER.length;
    out.keyboard.push({lang, stops, order_ok});

    // 3. upload, then submit with the keyboard: Enter on the focused button
    await page.setInputFiles('#file', opts.png);
    const focused = await describeFocused(page);
    if(focused.target !== 'button[type=submit]') {
      await page.focus('button[type=submit]');
    }
    await Promise.all([
      page.waitForURL(u => u.pathname === '/verify' && !u.search, {waitUntil: 'load'}),
      page.keyboard.press('Enter'),
    ]);
    const verdict = await verdictOf(page);
    // open "the details of each check", so that axe-core sees (and measures) them too
    await page.evaluate(() => document.querySelectorAll('details').forEach(d => {
      d.open = true;
    }));
    const answerAxe = await runAxe(page, axeSource);
    out.pages.push({
      kind: 'answer', lang, url: page.url(), status: null,
      html_lang: await htmlLang(page), ...answerAxe, verdict,
    });

    // 4. a revoked badge
    if(opts['revoked-png']) {
      await openForm(page, lang);
      await page.setInputFiles('#file', opts['revoked-png']);
      await page.focus('button[type=submit]');
      await Promise.all([
        page.waitForURL(u => u.pathname === '/verify' && !u.search, {waitUntil: 'load'}),
        page.keyboard.press('Enter'),
      ]);
      const revoked = await verdictOf(page);
      await page.evaluate(() => document.querySelectorAll('details').forEach(d => {
        d.open = true;
      }));
      const revokedAxe = await runAxe(page, axeSource);
      out.pages.push({
        kind: 'revoked', lang, url: page.url(), status: null,
        html_lang: await htmlLang(page), ...revokedAxe, verdict: revoked,
      });
    }
    if(pageErrors.length) {
      problems.push(`${lang}: page errors: ${pageErrors.join('; ')}`);
    }
  } finally {
    await context.close();
  }
}

/** JavaScript disabled, the CSP in force: the upload and the submit still answer. */
async function checkWithoutJavaScript(browser, lang) {
  const context = await browser.newContext({javaScriptEnabled: false, viewport: VIEWPORT});
  context.setDefaultTimeout(timeout);
  try {
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', m => {
      if(m.type() === 'error') {
        consoleErrors.push(m.text());
      }
    });
    await openForm(page, lang);
    await page.setInputFiles('#file', opts.png);
    await Promise.all([
      page.waitForURL(u => u.pathname === '/verify' && !u.search, {waitUntil: 'load'}),
      page.locator('button[type=submit]').click(),
    ]);
    const verdict = await verdictOf(page);
    const html = await page.content();
    out.nojs.push({
      lang, javascript: false, url: page.url(), verdict,
      html_lang: await htmlLang(page),
      has_script: /<script/i.test(html),
      console_errors: consoleErrors,
    });
  } finally {
    await context.close();
  }
}

// ---- main ------------------------------------------------------------------------------

let browser;
try {
  const pw = await load('playwright-core');
  const chromium = pw.chromium || (pw.default && pw.default.chromium);
  const axeModule = await load('axe-core');
  const axeSource = (axeModule.default || axeModule).source;
  if(typeof axeSource !== 'string') {
    throw new Error('axe-core did not export its source');
  }
  out.versions = {
    'playwright-core': packageVersion('playwright-core'),
    'axe-core': packageVersion('axe-core'),
    node: process.version,
  };
  browser = await chromium.launch({
    executablePath: path.resolve(opts.chromium),
    args: ['--no-sandbox'],
    headless: true,
    timeout,
  });
  out.browser = `chromium ${browser.version()}`;
  out.axe_canary = await axeCanary(browser, axeSource);
  for(const rule of ['color-contrast', 'html-has-lang', 'image-alt']) {
    if(!out.axe_canary.includes(rule)) {
      problems.push(`axe-core did not report ${rule} on the canary page: ${out.axe_canary}`);
    }
  }

  for(const lang of langs) {
    await checkLanguage(browser, axeSource, lang);
  }
  // The JavaScript-disabled runs: a context with javaScriptEnabled: false per language.
  for(const lang of langs) {
    await checkWithoutJavaScript(browser, lang);
  }

  const noViolations = out.pages.every(p => p.violations.length === 0);
  const keyboardOk = out.keyboard.every(k => k.order_ok &&
    k.stops.filter(s => FORM_ORDER.includes(s.target))
      .every(s => s.focus_visible && s.outline && s.pixels_change));
  const answersOk = out.pages.filter(p => p.kind === 'answer')
    .every(p => p.verdict && p.verdict.startsWith(AUTHENTIC[p.lang] ?? '\u0000'));
  const nojsOk = out.nojs.every(n => n.verdict && n.verdict.startsWith(AUTHENTIC[n.lang] ?? '\u0000'));
  out.ok = noViolations && keyboardOk && answersOk && nojsOk && problems.length === 0;
} catch(e) {
  out.ok = false;
  out.error = (e && e.stack) || String(e);
  out.ms = Date.now() - started;
  if(browser) {
    await browser.close().catch(() => {});
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(1);
}
await browser.close();
out.ms = Date.now() - started;
process.stdout.write(JSON.stringify(out) + '\n');
