import { loadConfig } from '../../../config/config.schema';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { composeServices, type Services } from '../../../server/compose';
import { fromSqlDate } from '../../../server/db/sql';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { describeEachDatabase } from '../../support/database';

const actor = { operatorId: null, ip: null };

const morning: JourneyDefinition = {
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'morning',
  goal: null,
  nodes: [
    { id: 'morning', type: 'wait', mode: 'until_time', time: '09:00', next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};

describeEachDatabase("a wait until a time of day, in the contact's time zone", (db) => {
  let clock: ManualClock;
  let a: Services;

  beforeEach(() => {
    // 02:00 UTC: 10:00 in Shanghai, 21:00 the evening before in New York.
    clock = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
    a = composeServices({
      config: loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'silent' }),
      dataSource: db().dataSource,
      clock,
      logger: createLogger('silent'),
      holder: 'instance-a',
      apiBases: { wechat: 'http://127.0.0.1:9/wechat', wecom: 'http://127.0.0.1:9/wecom' },
    });
  });

  const contact = async (timeZone: string | null): Promise<number> => {
    await db().dataSource.query(
      "INSERT INTO contacts (score, stage, time_zone, created_at, updated_at) VALUES (0, 'acquired', ?, '2026-11-01 00:00:00.000', '2026-11-01 00:00:00.000')",
      [timeZone],
    );
    const [row]: { id: number }[] = await db().dataSource.query('SELECT MAX(id) AS id FROM contacts');
    return Number(row.id);
  };
  const dueOf = async (contactId: number) => {
    const [row]: { next_due_at: unknown }[] = await db().dataSource.query('SELECT next_due_at FROM journey_runs WHERE contact_id = ?', [
      contactId,
    ]);
    return fromSqlDate(row.next_due_at).toISOString();
  };

  it('a contact in America/New_York waits until 09:00 New York time; one without a zone until 09:00 in the business zone', async () => {
    const created = await a.journeys.createJourney({ name: 'morning', definition: morning, actor });
    if (!created.ok) throw new Error(JSON.stringify(created));
    await a.journeys.publish({ id: created.value.id, actor });
    const newYork = await contact('America/New_York');
    const shanghai = await contact(null);
    await a.journeys.enroll({ id: created.value.id, contactIds: [newYork, shanghai], actor });
    expect(await a.journeyEngine.advanceDue()).toBe(2);
    // 09:00 EST (UTC-5) the same morning there; 09:00 in Shanghai the next morning.
    expect(await dueOf(newYork)).toBe('2026-12-01T14:00:00.000Z');
    expect(await dueOf(shanghai)).toBe('2026-12-02T01:00:00.000Z');

    clock.set(new Date('2026-12-01T14:00:00.000Z'));
    expect(await a.journeyEngine.advanceDue()).toBe(1);
    const ended: { contact_id: number; state: string }[] = await db().dataSource.query(
      'SELECT contact_id, state FROM journey_runs ORDER BY contact_id',
    );
    expect(ended.map((r) => [Number(r.contact_id), r.state])).toEqual([
      [newYork, 'exited'],
      [shanghai, 'waiting'],
    ]);
  });
});
