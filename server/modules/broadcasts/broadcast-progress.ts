import type { OutboxState } from '../../../entities/outbox-message.entity';

/**
 * What a broadcast's figures count an outbox row as. Every outbox state has exactly one bucket,
 * so the buckets add up to the broadcast's rows whatever channel it uses: `confirming` (a WeCom
 * 企业群发 row waiting for its rep) is its own figure, not lost between queued and sent. A new
 * state fails to compile until it is placed here.
 */
export type ProgressBucket = 'queued' | 'confirming' | 'sent' | 'failed' | 'skipped' | 'unknown' | 'cancelled';

export const PROGRESS_BUCKETS: Readonly<Record<OutboxState, ProgressBucket>> = Object.freeze({
  pending: 'queued',
  sending: 'queued',
  confirming: 'confirming',
  sent: 'sent',
  failed: 'failed',
  unknown: 'unknown',
  skipped: 'skipped',
  cancelled: 'cancelled',
});

/** The states a broadcast is not done while a row is in: it may still go out (or be confirmed). */
export const UNFINISHED_STATES: readonly OutboxState[] = Object.freeze(['pending', 'sending', 'confirming']);

export type ProgressCounts = Record<ProgressBucket, number>;

/**
 * Folds `state → count` rows into the buckets. A state this code does not know (a row written by
 * a newer release during a rolling deploy) counts as `unknown`: the figures still add up.
 */
export function countProgress(rows: readonly { state: string; n: number | string }[]): ProgressCounts {
  const counts: ProgressCounts = { queued: 0, confirming: 0, sent: 0, failed: 0, skipped: 0, unknown: 0, cancelled: 0 };
  const buckets: Readonly<Record<string, ProgressBucket>> = PROGRESS_BUCKETS;
  for (const row of rows) counts[buckets[row.state] ?? 'unknown'] += Number(row.n);
  return counts;
}
