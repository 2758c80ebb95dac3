/*
 * CI's WXML/WXSS compile and package-size check (scripts/check-miniprogram.ts): the mini-program
 * as it is passes, and a copy with a broken template, a broken style or a missing page file fails
 * with the file named, so a broken template fails `npm test`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMiniprogram, MAIN_PACKAGE_LIMIT_BYTES } from '../../scripts/check-miniprogram';

const ROOT = path.resolve(__dirname, '../../miniprogram');

let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-miniprogram-'));
  fs.cpSync(ROOT, scratch, { recursive: true });
});

afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('mini-program compile check', () => {
  it("compiles every page's WXML and WXSS with wcc/wcsc and keeps the main package under 2 MB", () => {
    const result = checkMiniprogram(ROOT);
    expect(result.errors).toEqual([]);
    expect(result.pages).toEqual(
      expect.arrayContaining([
        'pages/card/index',
        'pages/cards/index',
        'pages/events/list',
        'pages/events/detail',
        'pages/events/register',
        'pages/events/after-checkin',
        'pages/events/cloud',
        'pages/events/survey',
        'pages/tickets/index',
        'pages/checkin/scan',
        'pages/content/index',
      ]),
    );
    expect(result.packageBytes).toBeGreaterThan(10_000);
    expect(result.packageBytes).toBeLessThan(MAIN_PACKAGE_LIMIT_BYTES);
  });

  it('fails on a broken template, naming the file and place', () => {
    const file = path.join(scratch, 'pages/card/index.wxml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('</block>', ''));
    const result = checkMiniprogram(scratch);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/pages\/card\/index\.wxml:\d+:\d+/);
  });

  it('fails on a broken style sheet', () => {
    fs.appendFileSync(path.join(scratch, 'pages/events/list.wxss'), '\n.broken { color: red;\n');
    const result = checkMiniprogram(scratch);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain('pages/events/list.wxss');
  });

  it('fails when a page app.json lists is missing a file', () => {
    fs.rmSync(path.join(scratch, 'pages/tickets/index.wxss'));
    expect(checkMiniprogram(scratch).errors).toContain('pages/tickets/index.wxss: missing (app.json lists the page)');
  });

  it('fails on a secret written into the mini-program', () => {
    fs.appendFileSync(path.join(scratch, 'config.ts'), "\nexport const APP_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';\n");
    expect(checkMiniprogram(scratch).errors).toEqual(['config.ts: looks like it holds a secret (none belong in the mini-program)']);
  });

  it('fails over the 2 MB limit', () => {
    fs.writeFileSync(path.join(scratch, 'big.png'), Buffer.alloc(MAIN_PACKAGE_LIMIT_BYTES));
    expect(checkMiniprogram(scratch).errors).toEqual([expect.stringMatching(/^main package: \d+ bytes, over WeChat's limit/)]);
  });
});
