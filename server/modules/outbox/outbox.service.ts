import type { EntityManager } from 'typeorm';
import type { OutboxChannel, OutboxPurpose } from '../../../entities/outbox-message.entity';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, toSqlDate } from '../../db/sql';

/** A message to put in the outbox: why it exists (the key), to whom, how, and not before when. */
export interface OutboxDraft {
  /** `journey:<run>:<node>`, `broadcast:<id>:<contact>`, `event:<id>:reminder:<registration>` ... */
  dedupeKey: string;
  contactId: number;
  channel: OutboxChannel;
  purpose?: OutboxPurpose;
  source: { type: string; id: string; runId?: number | null; nodeId?: string | null };
  /** The channel API's body without the recipient (the sender resolves it when it sends). */
  payload: Record<string, unknown>;
  notBefore?: Date;
}

export interface EnqueueParams {
  /** The caller's transaction: the row is written with the step that decided to send it. */
  manager: EntityManager;
  drafts: OutboxDraft[];
}

const MAX_DEDUPE_KEY_LENGTH = 191;
/** Rows per INSERT: 14 values each stays far below both drivers' placeholder limits. */
const INSERT_CHUNK = 500;
const COLUMNS =
  '(dedupe_key, contact_id, channel, purpose, source_type, source_id, run_id, node_id, payload, state, attempts, not_before, created_at, updated_at)';
const ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)";

export class InvalidOutboxDraftError extends Error {}

/**
 * The outbox: every message Flywheel sends, at most once (docs/ARCHITECTURE.md, "The outbox").
 * Not a lease-queue table: an expired lease is retried, which is right for work and wrong for a
 * send.
 */
export class OutboxService {
  constructor(private readonly deps: { clock: Clock }) {}

  /**
   * Adds the drafts whose keys are new, in the caller's transaction, and returns how many were
   * new. A key seen before (a replayed journey step, a broadcast expanded again after a crash)
   * adds nothing, whatever state its row is in: keys are kept for good. One multi-row statement
   * per 500 drafts, so a 100,000-contact broadcast is 200 statements.
   */
  async enqueue(params: EnqueueParams): Promise<number> {
    const { manager, drafts } = params;
    for (const draft of drafts) {
      if (draft.dedupeKey.length === 0 || draft.dedupeKey.length > MAX_DEDUPE_KEY_LENGTH)
        throw new InvalidOutboxDraftError(`outbox dedupe key must be 1-${MAX_DEDUPE_KEY_LENGTH} characters: "${draft.dedupeKey}"`);
    }
    const now = toSqlDate(this.deps.clock.now());
    // ON DUPLICATE KEY UPDATE id = id / ON CONFLICT DO NOTHING skip only a repeated key; INSERT
    // IGNORE would also swallow truncation and NOT NULL errors.
    const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE id = id' : 'ON CONFLICT (dedupe_key) DO NOTHING';
    let added = 0;
    for (let start = 0; start < drafts.length; start += INSERT_CHUNK) {
      const chunk = drafts.slice(start, start + INSERT_CHUNK);
      const values = chunk.flatMap((d) => [
        d.dedupeKey,
        d.contactId,
        d.channel,
        d.purpose ?? 'marketing',
        d.source.type,
        d.source.id,
        d.source.runId ?? null,
        d.source.nodeId ?? null,
        JSON.stringify(d.payload),
        d.notBefore ? toSqlDate(d.notBefore) : now,
        now,
        now,
      ]);
      const sql = `INSERT INTO outbox_messages ${COLUMNS} VALUES ${chunk.map(() => ROW).join(', ')} ${conflict}`;
      added += await insertCountingNew(manager, sql, values);
    }
    return added;
  }
}

/**
 * Runs an insert-or-skip and returns how many rows were new. SQLite reports exactly that. MySQL's
 * affected rows cannot tell (mysql2 connects with CLIENT_FOUND_ROWS, so a skipped duplicate counts
 * 1 like an insert); its OK packet says `Records: n  Duplicates: d` for a multi-row INSERT, and
 * for one row an insert id of 0 when the key was there already.
 */
async function insertCountingNew(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const own = manager.queryRunner ? null : manager.connection.createQueryRunner();
  const runner = manager.queryRunner ?? own;
  if (!runner) throw new Error('no query runner');
  try {
    const result = await runner.query(sql, params, true);
    if (!isMysqlManager(manager)) return result.affected ?? 0;
    const raw: unknown = result.raw;
    if (typeof raw !== 'object' || raw === null) return 0;
    const info = 'info' in raw && typeof raw.info === 'string' ? raw.info : '';
    const counts = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(info);
    if (counts) return Number(counts[1]) - Number(counts[2]);
    return 'insertId' in raw && Number(raw.insertId) !== 0 ? 1 : 0;
  } finally {
    await own?.release();
  }
}
