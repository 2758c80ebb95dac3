import { OUTBOX_STATES } from '../../../entities/outbox-message.entity';
import { countProgress, PROGRESS_BUCKETS, UNFINISHED_STATES } from '../../../server/modules/broadcasts/broadcast-progress';

describe('broadcast progress buckets', () => {
  it('places every outbox state in one bucket, so the figures add up to the rows', () => {
    expect(Object.keys(PROGRESS_BUCKETS).sort()).toEqual([...OUTBOX_STATES].sort());
    const rows = OUTBOX_STATES.map((state, i) => ({ state, n: String(i + 1) }));
    const counts = countProgress(rows);
    const sum = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(sum).toBe(rows.reduce((a, r) => a + Number(r.n), 0));
    expect(counts.confirming).toBe(OUTBOX_STATES.indexOf('confirming') + 1);
  });

  it('counts a state it does not know as unknown rather than dropping it', () => {
    expect(countProgress([{ state: 'from_the_future', n: 3 }])).toMatchObject({ unknown: 3 });
  });

  it('keeps a broadcast open while a row may still go out: pending, sending, confirming', () => {
    expect([...UNFINISHED_STATES].sort()).toEqual(['confirming', 'pending', 'sending']);
  });
});
