import type { DataSource } from 'typeorm';
import { fromSqlDate, placeholders } from '../../db/sql';
import { countProgress } from './broadcast-progress';

export interface BroadcastListItem {
  id: number;
  name: string;
  status: string;
  segmentId: number | null;
  channel: string;
  sendAt: string;
  createdAt: string;
  total: number;
  queued: number;
  confirming: number;
  sent: number;
  failed: number;
  skipped: number;
  unknown: number;
  cancelled: number;
  /** The message's body as sent (template_id, data, url), for the list's preview. */
  message: Record<string, unknown>;
}

const LIST_LIMIT = 100;

/**
 * The 群发 screen's list: the newest broadcasts with their counts, read in two statements (the
 * page of broadcasts, then one GROUP BY over their outbox rows on the (source_type, source_id,
 * state) index). A broadcast's own figures, skips by reason included, are BroadcastsService.progress.
 */
export async function listBroadcasts(dataSource: DataSource): Promise<BroadcastListItem[]> {
  const rows: Record<string, unknown>[] = await dataSource.query(
    `SELECT id, name, status, segment_id, channel, message, send_at, created_at, total FROM broadcasts ORDER BY id DESC LIMIT ${LIST_LIMIT}`,
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => String(r.id));
  const counts: { source_id: string; state: string; n: number | string }[] = await dataSource.query(
    `SELECT source_id, state, COUNT(*) AS n FROM outbox_messages WHERE source_type = 'broadcast' AND source_id IN (${placeholders(ids.length)})
     GROUP BY source_id, state`,
    ids,
  );
  return rows.map((r) => {
    const id = String(r.id);
    return {
      id: Number(r.id),
      name: String(r.name),
      status: String(r.status),
      segmentId: r.segment_id === null ? null : Number(r.segment_id),
      channel: String(r.channel),
      sendAt: fromSqlDate(r.send_at).toISOString(),
      createdAt: fromSqlDate(r.created_at).toISOString(),
      total: Number(r.total),
      ...countProgress(counts.filter((c) => String(c.source_id) === id)),
      message: parseMessage(r.message),
    };
  });
}

function parseMessage(value: unknown): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(String(value));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
