// Drives the emulator's web console in Debian's headless Chromium the way a
// user would (open the table list, follow links, page with "Next page",
// open the failed-request log) and prints, as one JSON line, what each
// page shows. tests/console_browser.rs starts the emulator, fills it, runs
// this and asserts on the result.
//
//   node browse.mjs <console url> <screenshot dir>

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [consoleUrl, shots] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "console-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  // Without the background-networking flags Chromium waits on the closed network.
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  timeout: 60_000,
});

// Each table on the page as rows of cells; a cell is its visible value and
// the type badge beside it.
async function tables(page, selector) {
  return page.$$eval(selector, (rows) =>
    rows.map((tr) =>
      [...tr.children].map((td) => {
        const badge = td.querySelector(".t");
        const text = [...td.childNodes]
          .filter((n) => !(n.nodeType === 1 && n.classList.contains("t")))
          .map((n) => n.textContent)
          .join("")
          .trim();
        return badge ? { text, type: badge.textContent } : { text };
      }),
    ),
  );
}

const seen = {};
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);

  await page.goto(consoleUrl);
  seen.index = {
    title: await page.title(),
    tables: await page.$$eval("#tables tr td:first-child a", (a) => a.map((x) => x.textContent)),
    timeseries: await page.$$eval("#timeseries-tables tr td:first-child a", (a) =>
      a.map((x) => x.textContent),
    ),
  };
  await page.screenshot({ path: join(shots, "console-index.png"), fullPage: true });

  // Into the first table by its link, then page through it.
  await page.click(`#tables a:text-is("${seen.index.tables[0]}")`);
  seen.table = {
    name: await page.textContent("#table-name"),
    schema: await page.textContent("#schema"),
    header: await page.$$eval("#rows tr:first-child th", (th) => th.map((x) => x.textContent)),
    pages: [],
  };
  for (;;) {
    seen.table.pages.push({
      range: await page.textContent(".nav #range"),
      rows: await tables(page, "#rows tr:not(:first-child)"),
    });
    if (seen.table.pages.length === 1) {
      await page.screenshot({ path: join(shots, "console-table.png"), fullPage: true });
    }
    const next = await page.$(".nav #next-page");
    if (!next || seen.table.pages.length > 10) break;
    await next.click();
    await page.waitForLoadState();
  }
  await page.click(".nav #first-page");
  seen.table.backToFirst = await page.textContent(".nav #range");

  await page.goto(consoleUrl);
  await page.click(`#timeseries-tables a:text-is("${seen.index.timeseries[0]}")`);
  seen.timeseries = {
    name: await page.textContent("#table-name"),
    series: await tables(page, "#series tr:not(:first-child)"),
  };
  await page.screenshot({ path: join(shots, "console-timeseries.png"), fullPage: true });

  await page.click("header a:text-is('Errors')");
  seen.errors = {
    heading: await page.textContent("h1"),
    rows: await tables(page, "#requests tr:not(:first-child)"),
  };
  await page.screenshot({ path: join(shots, "console-errors.png"), fullPage: true });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(seen));
