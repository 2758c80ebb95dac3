import { INTERACTION_TYPES, interactionTypeOf } from '../../../web/shared/interaction-types';
import {
  buildCustomSendBody,
  CUSTOM_TEXT_MAX_BYTES,
  CUSTOM_WINDOW_MS,
  customDraftFromPayload,
  customWindowOpen,
  opensCustomWindow,
} from '../../../server/wechat/custom-message';
import { CUSTOM_WINDOW_OPENERS } from '../../../server/modules/outbox/custom-window';

describe('customer-service messages', () => {
  it('opens the window on messages, click and scan-code menu buttons, follows and scans, not on links, pickers or unfollows', () => {
    for (const type of ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'])
      expect(opensCustomWindow(type, undefined)).toBe(true);
    for (const event of ['CLICK', 'scancode_push', 'scancode_waitmsg', 'subscribe', 'SCAN'])
      expect(opensCustomWindow('event', event)).toBe(true);
    for (const event of [
      'VIEW',
      'view_miniprogram',
      'pic_photo_or_album',
      'location_select',
      'LOCATION',
      'unsubscribe',
      'TEMPLATESENDJOBFINISH',
    ])
      expect(opensCustomWindow('event', event)).toBe(false);
  });

  it('takes its list of opening interaction types from the registry: all inbound, none of the link or picker menus', () => {
    for (const type of CUSTOM_WINDOW_OPENERS) expect(interactionTypeOf(type)?.direction).toBe('in');
    expect(Object.keys(INTERACTION_TYPES)).toEqual(expect.arrayContaining([...CUSTOM_WINDOW_OPENERS]));
    for (const type of ['view', 'view_miniprogram', 'menu_pics', 'menu_location', 'location_report', 'unsubscribe', 'link_clicked'])
      expect(CUSTOM_WINDOW_OPENERS).not.toContain(type);
  });

  it('keeps the window 48 hours from the interaction, with a margin for the request', () => {
    const opened = new Date('2026-12-01T00:00:00.000Z');
    expect(CUSTOM_WINDOW_MS).toBe(48 * 3_600_000);
    expect(customWindowOpen(opened, new Date(opened.getTime() + CUSTOM_WINDOW_MS - 1))).toBe(true);
    expect(customWindowOpen(opened, new Date(opened.getTime() + CUSTOM_WINDOW_MS))).toBe(false);
    expect(customWindowOpen(opened, new Date(opened.getTime() + CUSTOM_WINDOW_MS - 30_000), 60_000)).toBe(false);
  });

  it('accepts a text and a one-article news message, and says what is wrong with the others', () => {
    expect(customDraftFromPayload({ msgtype: 'text', text: { content: '您好' } })).toEqual({
      draft: { msgtype: 'text', text: { content: '您好' } },
    });
    const news = {
      msgtype: 'news',
      news: { articles: [{ title: '回归礼', description: '满100减30', url: 'https://x.example/r/a', picurl: 'https://x.example/p.jpg' }] },
    };
    expect(customDraftFromPayload(news)).toEqual({ draft: news });
    expect(buildCustomSendBody('oOPENID', { msgtype: 'text', text: { content: 'hi' } })).toEqual({
      touser: 'oOPENID',
      msgtype: 'text',
      text: { content: 'hi' },
    });

    const codes = (payload: unknown) => {
      const parsed = customDraftFromPayload(payload);
      return 'violations' in parsed ? parsed.violations.map((v) => `${v.field} ${v.code}`) : [];
    };
    expect(codes(null)).toEqual(['payload bad_payload']);
    expect(codes({ msgtype: 'mpnews' })).toEqual(['msgtype bad_msgtype']);
    expect(codes({ msgtype: 'text', text: { content: '  ' } })).toEqual(['text.content empty_content']);
    expect(codes({ msgtype: 'text', text: { content: '字'.repeat(CUSTOM_TEXT_MAX_BYTES / 3 + 1) } })).toEqual(['text.content too_long']);
    expect(codes({ msgtype: 'news', news: { articles: [] } })).toEqual(['news.articles articles']);
    expect(codes({ msgtype: 'news', news: { articles: [news.news.articles[0], news.news.articles[0]] } })).toEqual([
      'news.articles articles',
    ]);
    expect(codes({ msgtype: 'news', news: { articles: [{ title: '', url: 'javascript:alert(1)' }] } })).toEqual([
      'news.articles.0.title empty_content',
      'news.articles.0.url bad_url',
    ]);
  });
});
