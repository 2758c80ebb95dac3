import type { DataSource } from 'typeorm';
import type { SandboxState } from '../../server/adapters/sandbox/sandbox-state';
import { SANDBOX_TEMPLATE_IDS } from '../../server/adapters/sandbox/sandbox-messages';
import { placeholders, toSqlDate } from '../../server/db/sql';

/** An openid in the platform's shape (28 characters) for the nth seeded follower. */
export function openidOf(n: number): string {
  return `oFW${String(n).padStart(25, '0')}`;
}

/**
 * `count` contacts, each with an Official Account openid (and, when `sandbox` is given, a follower
 * on the fake platform), written in chunks of raw SQL: a fault test's 10,000 contacts in seconds.
 * Returns their ids in order.
 */
export async function seedFollowers(p: {
  dataSource: DataSource;
  appId: string;
  count: number;
  sandbox?: SandboxState;
  /** The first follower's number (openidOf); 1 by default. */
  from?: number;
}): Promise<number[]> {
  const now = toSqlDate(new Date('2026-11-01T00:00:00.000Z'));
  const from = p.from ?? 1;
  const ids: number[] = [];
  const chunk = 500;
  for (let start = 0; start < p.count; start += chunk) {
    const n = Math.min(chunk, p.count - start);
    const numbers = Array.from({ length: n }, (_, i) => from + start + i);
    const first: { id: number | string }[] = await p.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO contacts (stage, score, created_at, updated_at) VALUES ${numbers.map(() => "('acquired', 0, ?, ?)").join(', ')}`,
        numbers.flatMap(() => [now, now]),
      );
      const rows: { id: number | string }[] = await m.query(`SELECT id FROM contacts ORDER BY id DESC LIMIT ${n}`);
      const created = rows.map((r) => Number(r.id)).reverse();
      await m.query(
        `INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES ${created.map(() => "(?, 'oa_openid', ?, ?, ?)").join(', ')}`,
        created.flatMap((id, i) => [id, p.appId, openidOf(numbers[i]), now]),
      );
      return created.map((id) => ({ id }));
    });
    ids.push(...first.map((r) => Number(r.id)));
    if (p.sandbox) for (const number of numbers) p.sandbox.addFollower({ openid: openidOf(number), unionid: null });
  }
  return ids;
}

/** The reactivation offer as a broadcast or journey sends it: a category template with valid values. */
export function offerPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    template_id: SANDBOX_TEMPLATE_IDS.reactivationOffer,
    data: {
      thing1: { value: '老朋友回归礼' },
      thing2: { value: '满100减30' },
      time3: { value: '2026年12月31日 23:59' },
      thing4: { value: '点击领取，限时有效' },
    },
    url: 'https://flywheel.example/r/abc123',
    ...overrides,
  };
}

/** Outbox rows by state, e.g. `{sent: 9998, unknown: 2}`. */
export async function countOutboxStates(dataSource: DataSource): Promise<Record<string, number>> {
  const rows: { state: string; n: number | string }[] = await dataSource.query(
    'SELECT state, COUNT(*) AS n FROM outbox_messages GROUP BY state',
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Delivery-log lines of these outbox rows, by outcome. */
export async function attemptsOf(
  dataSource: DataSource,
  ids: number[],
): Promise<{ outbox_id: number; attempt: number; outcome: string; errcode: number | null }[]> {
  if (ids.length === 0) return [];
  const rows: { outbox_id: number | string; attempt: number | string; outcome: string; errcode: number | string | null }[] =
    await dataSource.query(
      `SELECT outbox_id, attempt, outcome, errcode FROM outbox_attempts WHERE outbox_id IN (${placeholders(ids.length)}) ORDER BY outbox_id, attempt`,
      ids,
    );
  return rows.map((r) => ({
    outbox_id: Number(r.outbox_id),
    attempt: Number(r.attempt),
    outcome: r.outcome,
    errcode: r.errcode === null ? null : Number(r.errcode),
  }));
}
