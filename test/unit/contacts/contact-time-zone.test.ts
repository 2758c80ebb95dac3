import { normalizeTimeZone } from '../../../server/modules/contacts/contact-notes.service';

describe('a time zone typed by an operator (normalizeTimeZone)', () => {
  it('takes IANA names in their canonical spelling and refuses offsets, abbreviations and unknown names', () => {
    expect(normalizeTimeZone('America/New_York')).toBe('America/New_York');
    expect(normalizeTimeZone(' asia/shanghai ')).toBe('Asia/Shanghai');
    expect(normalizeTimeZone('UTC')).toBe('UTC');
    expect(normalizeTimeZone('Etc/GMT+5')).toBe('Etc/GMT+5');
    for (const bad of ['+08:00', 'EST', 'Mars/Olympus_Mons', 'Asia/', '', 'x'.repeat(70), 'America/New York'])
      expect(normalizeTimeZone(bad)).toBeNull();
  });
});
