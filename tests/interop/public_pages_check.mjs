#!/usr/bin/env node
// Checks carnet's pages in a real browser, at several screen widths: Debian's Chromium
// (/usr/bin/chromium, installed by scripts/setup-interop.sh), driven by playwright-core,
// with the axe-core accessibility engine. Playwright never downloads a browser here.
// Generic: the pages and the widths come in one JSON argument, so any page can be added.
//
// First, axe-core on a canary page made to fail (it must report color-contrast,
// html-has-lang and image-alt: the engine and the rendering work). Then, for each width and
// each page, in a tab whose viewport is that wide and whose locale is the page's language (the
// views of one width and locale share a browser context, as one visitor's pages would):
//   1. opens the URL (an error status is expected for error pages: it is recorded, not a failure);
//      with "fill", types those values into those fields, then clicks "submit" and waits for the
//      page the form answers (its status is the one recorded): a page reached by a POST;
//   2. opens every <details> (their content is checked too);
//   3. measures sideways scrolling: document.documentElement.scrollWidth against
//      window.innerWidth, and names the text and the elements that stick out on the right;
//   4. reads <html lang>, <title>, the <h1>s, whether there is a <main>, and the start of the
//      text of <main> as the browser renders it (innerText, after the <details> are opened);
//   5. runs axe-core (WCAG 2.0 and 2.1, A and AA, plus best practices);
//   6. with "screenshots": saves a full-page PNG named NAME-WIDTH.png in that folder.
// "parallel" views are checked at once, each in its own tab of the one browser.
//
// usage: node public_pages_check.mjs JSON
//   JSON = {"pages": [{"name": "home-fr", "url": "http://127.0.0.1:8080/?lang=fr"}, ...],
//           "widths": [320, 390, 1280],            (default: [320, 390, 1280])
//           "main_text": 200,                      (optional: how many characters of <main>'s
//                                                   text to report; default 0, none)
//           "parallel": 2,                         (optional: views at once; default 2)
//           "screenshots": "/some/folder",         (optional)
//           "chromium": "/usr/bin/chromium",       (optional)
//           "timeout_ms": 30000}                   (optional, each browser step)
//   A page may also say "locale" (default: from ?lang= in its URL, else fr-FR), "main_text" (for
//   that page), and "fill": {"CSS selector": "value", ...} with "submit": "CSS selector".
//
// Prints one JSON line:
//   {"ok": bool, "results": [{"name", "url", "width", "status", "html_lang", "title",
//     "h1": ["..."], "has_main": bool, "main_text": "..."|null, "scroll_width": n,
//     "inner_width": n, "sideways": bool,
//     "wide": ["text in tag.class#id \"its text…\" (right px)", "tag.class#id[name=…] \"…\" (right px)"],
//     "passes": n, "violations": [{"id","impact","help","nodes","targets"}],
//     "incomplete": ["rule id", ...], "screenshot": "path"|null, "ms": n}],
//    "axe_canary": ["rule id", ...], "browser": "...", "versions": {...}, "ms": n,
//    "problems": [...]}
// "ok" is a summary (no violation, no sideways scroll, a <main> and an <h1> everywhere);
// the Rust test (tests/public_pages_browser.rs) judges each part itself.
// Exit status: 0 the checks ran (whatever they found), 1 crash, 2 usage error.
import fs from 'node:fs';
import path from 'node:path';

import {load, packageVersion} from './lib/deps.mjs';

const CHROMIUM = '/usr/bin/chromium';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const HEIGHT = 900;

function usageError(message) {
  process.stderr.write(`${message}\n\nusage: node public_pages_check.mjs ` +
    `'{"pages": [{"name": "...", "url": "..."}], "widths": [320, 390, 1280]}'\n`);
  process.exit(2);
}

let input;
try {
  if(process.argv.length !== 3) {
    throw new Error('one JSON argument expected');
  }
  input = JSON.parse(process.argv[2]);
} catch(e) {
  usageError(e.message);
}
const pages = Array.isArray(input.pages) ? input.pages : [];
if(!pages.length || !pages.every(p => p && typeof p.name === 'string' && typeof p.url === 'string')) {
  usageError('"pages" must be a non-empty list of {"name", "url"}');
}
if(!pages.every(p => (p.fill === undefined && p.submit === undefined) ||
  (p.fill && typeof p.fill === 'object' && typeof p.submit === 'string'))) {
  usageError('a page\'s "fill" must be an object of {"selector": "value"}, with a "submit" selector');
}
const mainText = input.main_text ?? 0;
const parallel = input.parallel ?? 2;
if(![mainText, parallel, ...pages.map(p => p.main_text ?? 0)].every(n => Number.isInteger(n) && n >= 0) ||
  parallel < 1) {
  usageError('"main_text" must be a whole number, "parallel" a positive one');
}
const widths = input.widths ?? [320, 390, 1280];
if(!Array.isArray(widths) || !widths.every(w => Number.isInteger(w) && w > 0)) {
  usageError('"widths" must be a list of positive integers');
}
const timeout = input.timeout_ms ?? 30000;
const shots = input.screenshots ?? null;
if(shots) {
  fs.mkdirSync(shots, {recursive: true});
}

const started = Date.now();
const problems = [];
const out = {ok: false, results: [], browser: null, versions: {}, ms: 0, problems};

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

/** Sideways scrolling, and what sticks out on the right, each with the start of its text so that
 * it can be found: first the runs of text wider than their box (a long word or address), then the
 * elements (the deepest first); and what the page says. */
function measure(page, chars) {
  return page.evaluate(chars => {
    const inner = window.innerWidth;
    const quote = text => {
      text = (text || '').replace(/\s+/g, ' ').trim();
      return text ? ` "${text.length > 40 ? `${text.slice(0, 40)}…` : text}"` : '';
    };
    const describe = el => {
      const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
      const id = el.id ? `#${el.id}` : '';
      const name = el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : '';
      return `${el.tagName.toLowerCase()}${cls}${id}${name}`;
    };
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for(let node = walker.nextNode(); node; node = walker.nextNode()) {
      if(!node.data.trim()) {
        continue;
      }
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if(r.right > inner + 0.5 && r.width > 0) {
        texts.push(`text in ${describe(node.parentElement)}${quote(node.data)} (${Math.round(r.right)} px)`);
      }
    }
    const elements = [];
    for(const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if(r.right > inner + 0.5 && r.width > 0) {
        elements.push(`${describe(el)}${quote(el.textContent)} (${Math.round(r.right)} px)`);
      }
    }
    const wide = [...texts.slice(0, 5), ...elements.reverse()].slice(0, 10);
    const main = document.querySelector('main');
    return {
      scroll_width: document.documentElement.scrollWidth,
      inner_width: inner,
      wide,
      html_lang: document.documentElement.getAttribute('lang'),
      title: document.title,
      h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
      has_main: document.querySelectorAll('main').length === 1,
      main_text: main && chars > 0 ? main.innerText.slice(0, chars) : null,
    };
  }, chars);
}

/** A page made to fail (no lang, an image without alt, grey on white text): proves that the
 * injection works and that this Chromium renders enough for the contrast rule, so that "no
 * violation" on carnet's pages means something. */
async function axeCanary(browser, axeSource) {
  const context = await browser.newContext({viewport: {width: 1280, height: HEIGHT}});
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

function localeOf(p) {
  if(p.locale) {
    return p.locale;
  }
  const lang = new URL(p.url).searchParams.get('lang');
  return lang === 'en' ? 'en-GB' : 'fr-FR';
}

/** A tab of one width and one locale, kept open for the next view that needs the same: a new
 * browser context per view costs a fifth of the time, and the renderer keeps axe-core compiled. */
class Tab {
  static async open(browser, width, locale) {
    // bypassCSP only so that addScriptTag can inject axe-core into pages that forbid scripts
    const context = await browser.newContext({
      bypassCSP: true, viewport: {width, height: HEIGHT}, deviceScaleFactor: 1, locale,
    });
    context.setDefaultTimeout(timeout);
    const tab = new Tab();
    tab.key = `${width} ${locale}`;
    tab.context = context;
    tab.page = await context.newPage();
    tab.errors = [];
    tab.page.on('pageerror', e => tab.errors.push(String(e)));
    return tab;
  }

  close() {
    return this.context.close();
  }
}

async function checkPage(tab, axeSource, p, width) {
  const began = Date.now();
  const page = tab.page;
  tab.errors = [];
  let resp = await page.goto(p.url, {waitUntil: 'load'});
  if(p.fill) {
    for(const [selector, value] of Object.entries(p.fill)) {
      await page.fill(selector, String(value));
    }
    [resp] = await Promise.all([
      page.waitForNavigation({waitUntil: 'load'}),
      page.click(p.submit),
    ]);
  }
  await page.evaluate(() => document.querySelectorAll('details').forEach(d => {
    d.open = true;
  }));
  const m = await measure(page, p.main_text ?? mainText);
  const axe = await runAxe(page, axeSource);
  let screenshot = null;
  if(shots) {
    screenshot = path.join(shots, `${p.name}-${width}.png`);
    await page.screenshot({path: screenshot, fullPage: true});
  }
  if(tab.errors.length) {
    problems.push(`${p.name} at ${width}px: page errors: ${tab.errors.join('; ')}`);
  }
  return {
    name: p.name, url: p.url, width, status: resp ? resp.status() : null,
    ...m, sideways: m.scroll_width > m.inner_width, ...axe, screenshot, ms: Date.now() - began,
  };
}

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
    executablePath: path.resolve(input.chromium ?? CHROMIUM),
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
  // every page at every width, `parallel` at a time, taken by width and locale so that each
  // worker's tab serves many in a row; the results in the order of the input
  const views = widths.flatMap(width => pages.map((p, i) => ({p, width, locale: localeOf(p),
    at: widths.indexOf(width) * pages.length + i})));
  views.sort((a, b) => a.width - b.width || a.locale.localeCompare(b.locale) || a.at - b.at);
  const results = new Array(views.length);
  let next = 0;
  const worker = async() => {
    let tab = null;
    try {
      while(next < views.length) {
        const v = views[next++];
        if(!tab || tab.key !== `${v.width} ${v.locale}`) {
          await tab?.close();
          tab = await Tab.open(browser, v.width, v.locale);
        }
        results[v.at] = await checkPage(tab, axeSource, v.p, v.width);
      }
    } finally {
      await tab?.close();
    }
  };
  await Promise.all(Array.from({length: Math.min(parallel, views.length)}, worker));
  out.results = results;
  out.ok = problems.length === 0 && out.results.every(r => r.violations.length === 0 &&
    !r.sideways && r.has_main && r.h1.length === 1);
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
