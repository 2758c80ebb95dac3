import fs from 'node:fs';
import path from 'node:path';
import { MP_PAGES } from '../../../server/modules/exhibitions/mp-pages';

/** A subscribe message opening a page the mini-program does not have shows WeChat's "页面不存在". */
describe('the pages exhibition messages open in the mini-program', () => {
  it('are pages miniprogram/app.json lists', () => {
    const app = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../miniprogram/app.json'), 'utf8')) as { pages: string[] };
    const paths = [MP_PAGES.event(7), MP_PAGES.tickets(), MP_PAGES.cloud(7), MP_PAGES.survey(7)];
    expect(paths.map((page) => page.split('?')[0]).filter((page) => !app.pages.includes(page))).toEqual([]);
    expect(paths).toEqual(['pages/events/detail?id=7', 'pages/tickets/index', 'pages/events/cloud?id=7', 'pages/events/survey?id=7']);
  });
});
