import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type { DataSource, EntityManager } from 'typeorm';
import type { ImportStatus } from '../../../entities/import.entity';
import type { TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { fromSqlDate, insertReturningId, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { ContactsService, IdentityRef } from '../contacts/contacts.service';
import { refreshSearchTerms } from '../contacts/search-terms';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { ContactTagsService } from '../tags/contact-tags.service';
import { Task } from '../../../entities/task.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { tagNameProblemsOf } from '../../../web/shared/field-rules';
import type { TaskQueue, TaskResult } from '../tasks/task-queue.service';
import { CSV_BOM, formatCsvRow } from '../contacts/contacts-csv';
import {
  cleanRow,
  CsvDecoder,
  CsvFileError,
  DUPLICATE_CODE,
  isBlankRow,
  mapHeader,
  ROW_ERRORS,
  type HeaderMap,
  type LeadValues,
} from './lead-csv';

/**
 * Lead imports (issue 15 §3): an operator's CSV of exhibitor or partner leads becomes contacts,
 * tagged with the event, each with an `imported` interaction. Never half-imported:
 *
 * 1. Stage. The upload streams through the decoder (UTF-8 or GBK, lead-csv.ts) and csv-parse
 *    into `import_rows`, a thousand rows per INSERT, each row cleaned (phone in E.164) or refused
 *    with its reason, duplicates within the file marked. Contacts are not touched: a crash here
 *    leaves an import in `staging` that nothing ever applies.
 * 2. Apply, in ONE transaction: match the rows to contacts by identity (joins of import_rows on
 *    contact_identities), create the missing contacts through ContactsService (the same code as
 *    every callback), fill their empty fields with one UPDATE … JOIN, tag them through
 *    ContactTagsService.tagContactSet (so the platform syncs are queued as for any tag), record
 *    the interactions through recordInteractions, and mark the import `done`. Any failure rolls
 *    it all back and the import stays `staged`; applying it again does the whole of it once (the
 *    status is read with a lock, and a `done` import is answered as it is).
 *
 * Every statement is set-based or chunked (a thousand rows), never one per row, except the rare
 * identity link that may merge (a unionid or openid new to an existing contact).
 */

export interface ImportsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  contacts: ContactsService;
  contactTags: ContactTagsService;
  interactions: { recordInteractions(manager: EntityManager, drafts: InteractionDraft[]): Promise<RecordResult[]> };
  /**
   * The app an identity column belongs to: external_userid is per WeCom corp, openid per
   * Official Account. null: that platform is off, and the column is ignored.
   */
  identityApps: { wecomCorpId: string | null; oaAppId: string | null };
  /** The task queue the search-terms task goes through (run by the `import-search-terms` job). */
  queue: Pick<TaskQueue, 'enqueue'>;
}

export interface ImportLeadsParams {
  /** The file's bytes as they arrive. */
  input: Readable;
  fileName: string | null;
  /** Tags put on every imported contact (created when missing). */
  tags: TagRef[];
  /** The exhibition the leads are for; a plain id (no foreign key). */
  eventId: number | null;
  /** true: a value in the file replaces a contact's field; false (default): only empty fields are filled. */
  overwrite: boolean;
  actor: AuditActor;
}

export interface RefusedRowView {
  row: number;
  code: string;
  message: string;
}

export interface DuplicateRowView {
  row: number;
  /** The earlier row naming the same person. */
  firstRow: number;
}

export interface ImportReport {
  id: number;
  status: ImportStatus;
  fileName: string | null;
  encoding: string | null;
  eventId: number | null;
  tags: string[];
  overwrite: boolean;
  /** Data rows read. */
  total: number;
  /** Contacts the import created or updated (created + updated). */
  imported: number;
  created: number;
  /** Existing contacts matched: their empty fields filled (or overwritten, when chosen), tagged. */
  updated: number;
  /** The first REPORT_LIMIT refused rows, in file order. */
  refused: RefusedRowView[];
  refusedCount: number;
  duplicates: number;
  duplicateRows: DuplicateRowView[];
  /** Header cells that named no known field (ignored). */
  ignoredColumns: string[];
  error: string | null;
  createdAt: string;
  appliedAt: string | null;
}

/** Refused and duplicate rows listed in a report; the rest are counted (and in refused.csv). */
export const REPORT_LIMIT = 100;
/** Rows per staging INSERT and per apply chunk. */
const CHUNK = 2_000;
/** csv-parse's limit on one record, in characters: a runaway quote fails fast instead of eating the file. */
const MAX_RECORD_CHARS = 64 * 1024;

export class ImportNotFoundError extends Error {}

/** The task that writes an applied import's contacts' search terms. */
export const IMPORT_SEARCH_TERMS = 'import_search_terms';
/** Contacts per search-terms transaction. */
const TERMS_CHUNK = 500;

interface StagedRow {
  rowNo: number;
  status: 'valid' | 'refused' | 'duplicate';
  values: LeadValues | null;
  code: string | null;
  message: string | null;
  raw: string[] | null;
}

const IDENTITY_FIELDS = ['unionid', 'externalUserId', 'openid'] as const;

const IDENTITY_COLUMNS = [
  { column: 'unionid', kind: 'unionid' },
  { column: 'external_user_id', kind: 'external_userid' },
  { column: 'openid', kind: 'oa_openid' },
] as const;

export class ImportsService {
  constructor(private readonly deps: ImportsServiceDeps) {}

  /**
   * The tags an import will create: a name a platform would refuse (the Official Account's 30
   * bytes, WeCom's 30 characters) is refused before the file is read, where the operator can fix
   * it, not later as a failed sync. As the tag rules check theirs (a new group syncs to both).
   */
  async checkTagNames(tags: TagRef[]): Promise<{ path: string; code: string; message: string; params: Record<string, string | number> }[]> {
    const issues: { path: string; code: string; message: string; params: Record<string, string | number> }[] = [];
    for (const [index, ref] of tags.entries()) {
      const group = await this.deps.dataSource.manager.findOneBy(TagGroup, { name: ref.group });
      const found = group ? [] : tagNameProblemsOf(ref.group, { oa: false, wecom: true });
      if (found.length === 0) found.push(...tagNameProblemsOf(ref.name, { oa: group?.syncOa ?? true, wecom: group?.syncWecom ?? true }));
      for (const { code, ...params } of found)
        issues.push({ path: `tag.${index}`, code, message: `${ref.group}:${ref.name}: ${code}`, params });
    }
    return issues;
  }

  /** Stages the file, then applies it; a file that cannot be read at all throws CsvFileError (or the input's own error). */
  async importLeads(p: ImportLeadsParams): Promise<ImportReport> {
    const id = await this.stageImport(p);
    return this.applyImport(id, p.actor);
  }

  /** Reads the whole file into import_rows; returns the import's id, `staged`. */
  async stageImport(p: ImportLeadsParams): Promise<number> {
    const manager = this.deps.dataSource.manager;
    const now = toSqlDate(this.deps.clock.now());
    const tagNames = p.tags.map((t) => `${t.group}:${t.name}`);
    const id = await insertReturningId(
      manager,
      'INSERT INTO imports (status, file_name, event_id, tags, overwrite, operator_id, created_at, updated_at) ' +
        "VALUES ('staging', ?, ?, ?, ?, ?, ?, ?)",
      [p.fileName?.slice(0, 255) ?? null, p.eventId, JSON.stringify(tagNames), p.overwrite ? 1 : 0, p.actor.operatorId, now, now],
    );
    const decoder = new CsvDecoder();
    const parser = parse({ relax_column_count: true, relax_quotes: true, skip_empty_lines: true, max_record_size: MAX_RECORD_CHARS });
    let header: HeaderMap | null = null;
    let headerCells: string[] = [];
    let rowNo = 1;
    const counts = { total: 0, refused: 0, duplicates: 0 };
    const seen = new Map<string, number>();
    let batch: StagedRow[] = [];
    let fileError: unknown = null;
    const consume = async (records: AsyncIterable<string[]>): Promise<void> => {
      for await (const record of records) {
        if (header === null) {
          headerCells = record.map((cell) => cell.replace(/^\uFEFF/, '').trim());
          try {
            header = mapHeader(headerCells);
          } catch (error) {
            // Kept: pipeline may report the abort it causes upstream (an HTTP request) instead.
            fileError = error;
            throw error;
          }
          continue;
        }
        rowNo += 1;
        if (isBlankRow(record)) continue;
        counts.total += 1;
        const staged = this.checkRow(record, header, rowNo, seen);
        if (staged.status === 'refused') counts.refused += 1;
        if (staged.status === 'duplicate') counts.duplicates += 1;
        batch.push(staged);
        if (batch.length >= CHUNK) {
          await insertStagedRows(manager, id, batch);
          batch = [];
        }
      }
    };
    try {
      await pipeline(p.input, decoder, parser, consume);
      if (header === null) throw new CsvFileError('empty_file', '文件是空的：第一行需为表头');
      await insertStagedRows(manager, id, batch);
    } catch (caught) {
      const error = fileError ?? decoder.failure ?? caught;
      await this.failStaging(id, error);
      if (error instanceof CsvError) throw new CsvFileError('bad_csv', `第 ${rowNo + 1} 行附近无法按 CSV 解析：${error.message}`);
      throw error;
    }
    const ignored = (header as HeaderMap | null)?.ignored ?? [];
    await manager.query(
      "UPDATE imports SET status = 'staged', encoding = ?, header = ?, total = ?, refused = ?, duplicates = ?, error = ?, updated_at = ? " +
        'WHERE id = ?',
      [
        decoder.encoding ?? 'utf-8',
        JSON.stringify({ cells: headerCells, ignored, identityColumns: IDENTITY_FIELDS.some((f) => header?.columns[f] !== undefined) }),
        counts.total,
        counts.refused,
        counts.duplicates,
        null,
        toSqlDate(this.deps.clock.now()),
        id,
      ],
    );
    return id;
  }

  /** One data row: cleaned, or refused, or a duplicate of an earlier row (same phone or identity). */
  private checkRow(record: string[], header: HeaderMap, rowNo: number, seen: Map<string, number>): StagedRow {
    const cleaned = cleanRow(record, header.columns);
    if (!cleaned.ok) return { rowNo, status: 'refused', values: null, code: cleaned.code, message: cleaned.message, raw: record };
    const keys = [
      `phone|${cleaned.values.phone}`,
      ...(['unionid', 'externalUserId', 'openid'] as const).flatMap((f) => (cleaned.values[f] ? [`${f}|${cleaned.values[f]}`] : [])),
    ];
    const firstRow = keys.map((key) => seen.get(key)).find((row) => row !== undefined);
    if (firstRow !== undefined)
      return { rowNo, status: 'duplicate', values: cleaned.values, code: DUPLICATE_CODE, message: `与第 ${firstRow} 行重复`, raw: record };
    for (const key of keys) seen.set(key, rowNo);
    return { rowNo, status: 'valid', values: cleaned.values, code: null, message: null, raw: null };
  }

  /** The file could not be staged: its rows go, the import says why (and is never applied). */
  private async failStaging(id: number, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await this.deps.dataSource.manager.query('DELETE FROM import_rows WHERE import_id = ?', [id]);
      await this.deps.dataSource.manager.query("UPDATE imports SET status = 'failed', error = ?, updated_at = ? WHERE id = ?", [
        message.slice(0, 255),
        toSqlDate(this.deps.clock.now()),
        id,
      ]);
    } catch (cleanup) {
      this.deps.logger.warn('import not marked failed', {
        importId: id,
        reason: cleanup instanceof Error ? cleanup.message : String(cleanup),
      });
    }
  }

  /**
   * Applies a staged import in one transaction (see the class comment). A `done` import is
   * answered as it is: applying twice changes nothing twice. A failure leaves it `staged`, with
   * the error noted, and is thrown.
   */
  async applyImport(id: number, actor: AuditActor): Promise<ImportReport> {
    try {
      await this.deps.transactor.runRetrying((m) => this.applyIn(m, id, actor));
    } catch (error) {
      await this.deps.dataSource.manager
        .query("UPDATE imports SET error = ?, updated_at = ? WHERE id = ? AND status = 'staged'", [
          (error instanceof Error ? error.message : String(error)).slice(0, 255),
          toSqlDate(this.deps.clock.now()),
          id,
        ])
        .catch(() => undefined);
      throw error;
    }
    const report = await this.getImport(id);
    if (!report) throw new ImportNotFoundError(`No import ${id}`);
    return report;
  }

  private async applyIn(m: EntityManager, id: number, actor: AuditActor): Promise<void> {
    const lock = isMysqlManager(m) ? ' FOR UPDATE' : '';
    const [head]: {
      status: ImportStatus;
      tags: string;
      overwrite: number | boolean;
      event_id: number | string | null;
      file_name: string | null;
      header: string | null;
    }[] = await m.query(`SELECT status, tags, overwrite, event_id, file_name, header FROM imports WHERE id = ?${lock}`, [id]);
    if (!head) throw new ImportNotFoundError(`No import ${id}`);
    if (head.status !== 'staged') return;
    const now = this.deps.clock.now();
    const at = toSqlDate(now);

    // 1. Rows to existing contacts, by phone identity (one statement), then by the other identities present.
    await matchByPhone(m, id, { created: false });
    const identityColumns = Boolean((JSON.parse(head.header ?? '{}') as { identityColumns?: boolean }).identityColumns);
    if (identityColumns) await this.matchOtherIdentities(m, id);

    // 2. New contacts for the rows still unmatched, through ContactsService (multi-row when ids are consecutive).
    // Walked by row (keyset on the unique key), then the rows take their new contacts in one statement, as in step 1.
    for (let after = 0; ;) {
      const rows: { row_no: number | string; phone: string }[] = await m.query(
        `SELECT row_no, phone FROM import_rows WHERE import_id = ? AND row_no > ? AND status = 'valid' AND contact_id IS NULL
          ORDER BY row_no LIMIT ${CHUNK}`,
        [id, after],
      );
      if (rows.length === 0) break;
      after = Number(rows[rows.length - 1].row_no);
      const refs: IdentityRef[] = rows.map((r) => ({ kind: 'phone', appId: '', value: r.phone }));
      await this.deps.contacts.resolveContacts(m, refs, { searchTerms: false });
    }
    await matchByPhone(m, id, { created: true });

    // 3. Identities the file adds to a contact (a phone new to a contact found by unionid, a unionid new to one found by phone).
    // (A file without identity columns found or made every contact by its phone: nothing to add.)
    if (identityColumns) await this.linkNewIdentities(m, id);

    // 4. Fields: empty ones filled (or all replaced, when chosen), in one UPDATE … JOIN.
    await this.fillFields(m, id, Boolean(Number(head.overwrite)), at);
    const contactIds = await this.importedContactIds(m, id);
    // The list's text search (contact_search_terms, ~40 terms a contact) is written after the
    // commit by a queued task (committed with the import, so a crash cannot lose it): a hundred
    // thousand contacts are four million terms, longer than the import itself.
    await this.deps.queue.enqueue({
      manager: m,
      kind: IMPORT_SEARCH_TERMS,
      dedupeKey: `${IMPORT_SEARCH_TERMS}:${id}`,
      payload: { importId: id, after: 0 },
    });

    // 5. Tags, through the tags service: created when missing, synced to the platforms as usual.
    const tagNames = JSON.parse(head.tags) as string[];
    for (const name of tagNames) {
      const tag = await this.deps.contactTags.ensureTag(m, parseTagName(name));
      await this.deps.contactTags.tagContactSet(m, {
        tag,
        contacts: {
          where:
            "c.id IN (SELECT r.contact_id FROM import_rows r WHERE r.import_id = ? AND r.status = 'valid' AND r.contact_id IS NOT NULL)",
          params: [id],
        },
        actor: { kind: 'operator', id: actor.operatorId },
        cause: 'import',
      });
    }

    // 6. One `imported` interaction per contact, keyed by the import: a repeat records nothing twice.
    const eventId = head.event_id === null ? null : Number(head.event_id);
    for (let i = 0; i < contactIds.length; i += CHUNK) {
      await this.deps.interactions.recordInteractions(
        m,
        contactIds.slice(i, i + CHUNK).map((contactId) => ({
          type: 'imported',
          channel: 'admin',
          occurredAt: now,
          detail: { importId: id, fileName: head.file_name, ...(eventId === null ? {} : { eventId }), tags: tagNames },
          identity: null,
          contactId,
          dedupeKey: `import:${id}:${contactId}`,
          ref: { type: 'import', id: String(id) },
        })),
      );
    }

    // 7. The counts, the state, the audit row: committed with the rest or not at all.
    const [counts]: { created: number | string | null; updated: number | string | null; refused: number | string | null }[] = await m.query(
      `SELECT COUNT(DISTINCT CASE WHEN status = 'valid' AND created = 1 THEN contact_id END) AS created,
              COUNT(DISTINCT CASE WHEN status = 'valid' AND created = 0 THEN contact_id END) AS updated,
              SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END) AS refused
         FROM import_rows WHERE import_id = ?`,
      [id],
    );
    await m.query(
      "UPDATE imports SET status = 'done', created = ?, updated = ?, refused = ?, error = NULL, applied_at = ?, updated_at = ? " +
        'WHERE id = ?',
      [Number(counts?.created ?? 0), Number(counts?.updated ?? 0), Number(counts?.refused ?? 0), at, at, id],
    );
    await this.deps.audit.record({
      manager: m,
      operatorId: actor.operatorId,
      ip: actor.ip,
      action: 'import.apply',
      targetType: 'import',
      targetId: id,
      detail: {
        created: Number(counts?.created ?? 0),
        updated: Number(counts?.updated ?? 0),
        refused: Number(counts?.refused ?? 0),
        tags: tagNames,
        eventId,
      },
    });
  }

  /**
   * Rows matched by unionid / external_userid / openid as well: a row with no contact yet takes
   * that identity's; a row whose phone is one contact's and whose unionid another's is refused
   * (`identity_conflict`): an import never merges two people, an operator decides that.
   */
  private async matchOtherIdentities(m: EntityManager, id: number): Promise<void> {
    for (const { column, kind } of IDENTITY_COLUMNS) {
      const appId = this.appIdOf(kind);
      if (appId === null) continue;
      const rows: { id: number | string; contact_id: number | string | null; other: number | string }[] = await m.query(
        `SELECT r.id, r.contact_id, ci.contact_id AS other FROM import_rows r
           JOIN contact_identities ci ON ci.kind = ? AND ci.app_id = ? AND ci.value = r.${column}
          WHERE r.import_id = ? AND r.status = 'valid' AND r.${column} IS NOT NULL`,
        [kind, appId, id],
      );
      const adopt = rows.filter((r) => r.contact_id === null).map((r) => [Number(r.id), Number(r.other)] as const);
      const conflicts = rows.filter((r) => r.contact_id !== null && Number(r.contact_id) !== Number(r.other)).map((r) => Number(r.id));
      for (let i = 0; i < adopt.length; i += CHUNK) {
        const chunk = adopt.slice(i, i + CHUNK);
        await m.query(
          `UPDATE import_rows SET contact_id = CASE id ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END
            WHERE id IN (${placeholders(chunk.length)})`,
          [...chunk.flat(), ...chunk.map(([rowId]) => rowId)],
        );
      }
      for (let i = 0; i < conflicts.length; i += CHUNK) {
        const chunk = conflicts.slice(i, i + CHUNK);
        await m.query(
          `UPDATE import_rows SET status = 'refused', code = 'identity_conflict', message = ?, contact_id = NULL
            WHERE id IN (${placeholders(chunk.length)})`,
          [ROW_ERRORS.identity_conflict, ...chunk],
        );
      }
    }
  }

  /** Identities of the file its contact lacks, linked through ContactsService (rare: one call each). */
  private async linkNewIdentities(m: EntityManager, id: number): Promise<void> {
    const kinds = [{ column: 'phone', kind: 'phone' as const }, ...IDENTITY_COLUMNS];
    for (const { column, kind } of kinds) {
      const appId = kind === 'phone' ? '' : this.appIdOf(kind);
      if (appId === null) continue;
      const rows: { contact_id: number | string; value: string }[] = await m.query(
        `SELECT r.contact_id, r.${column} AS value FROM import_rows r
          WHERE r.import_id = ? AND r.status = 'valid' AND r.contact_id IS NOT NULL AND r.${column} IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM contact_identities ci WHERE ci.kind = ? AND ci.app_id = ? AND ci.value = r.${column})`,
        [id, kind, appId],
      );
      for (const row of rows) await this.deps.contacts.linkIdentity(m, Number(row.contact_id), { kind, appId, value: row.value });
    }
  }

  private appIdOf(kind: 'unionid' | 'external_userid' | 'oa_openid'): string | null {
    if (kind === 'unionid') return '';
    return kind === 'external_userid' ? this.deps.identityApps.wecomCorpId : this.deps.identityApps.oaAppId;
  }

  /**
   * name, company, title, email from the file; contacts.phone (the number an operator typed, the
   * SMS channel's) from the row's phone when empty. Without `overwrite` a field keeps its value
   * and only an empty one is filled; with it, the file's non-empty values win. One statement on
   * each database (MySQL's multi-table UPDATE, SQLite's UPDATE … FROM).
   */
  private async fillFields(m: EntityManager, id: number, overwrite: boolean, at: string): Promise<void> {
    const mysql = isMysqlManager(m);
    const target = mysql ? 'c' : 'contacts';
    const pick = (column: string) =>
      overwrite
        ? `${mysql ? 'c.' : ''}${column} = COALESCE(r.${column}, ${target}.${column})`
        : `${mysql ? 'c.' : ''}${column} = COALESCE(NULLIF(${target}.${column}, ''), r.${column})`;
    const sets = [
      ...['name', 'company', 'title', 'email'].map(pick),
      `${mysql ? 'c.' : ''}phone = COALESCE(NULLIF(${target}.phone, ''), SUBSTR(r.phone, 4))`,
      `${mysql ? 'c.' : ''}updated_at = ?`,
    ].join(', ');
    const sql = mysql
      ? `UPDATE contacts c JOIN import_rows r ON r.contact_id = c.id SET ${sets} WHERE r.import_id = ? AND r.status = 'valid'`
      : `UPDATE contacts SET ${sets} FROM import_rows r WHERE r.contact_id = contacts.id AND r.import_id = ? AND r.status = 'valid'`;
    await m.query(sql, [at, id]);
  }

  private async importedContactIds(m: EntityManager, id: number): Promise<number[]> {
    const rows: { contact_id: number | string }[] = await m.query(
      "SELECT DISTINCT contact_id FROM import_rows WHERE import_id = ? AND status = 'valid' AND contact_id IS NOT NULL ORDER BY contact_id",
      [id],
    );
    return rows.map((r) => Number(r.contact_id));
  }

  /**
   * The queue's handler of IMPORT_SEARCH_TERMS: the import's contacts' search terms written again
   * from their rows (refreshSearchTerms: insert-or-ignore and a diff, so a repeat changes
   * nothing), 500 contacts per transaction, the cursor moving in the same transaction, so a
   * worker that dies goes on where the last chunk committed.
   */
  handlers(): Record<string, (tasks: Task[]) => Promise<TaskResult[]>> {
    return {
      [IMPORT_SEARCH_TERMS]: async (tasks) => {
        const results: TaskResult[] = [];
        for (const task of tasks) {
          try {
            while (await this.indexSearchTermsChunk(task.id));
            results.push({ id: task.id, ok: true });
          } catch (error) {
            results.push({ id: task.id, ok: false, error: error instanceof Error ? error.message : String(error), retryable: true });
          }
        }
        return results;
      },
    };
  }

  /** One chunk of the search-terms task; false when the import has no contacts left. */
  private async indexSearchTermsChunk(taskId: number): Promise<boolean> {
    return this.deps.transactor.runRetrying(async (m) => {
      const task = await m.findOneByOrFail(Task, { id: taskId });
      const payload = { importId: Number(task.payload.importId), after: Number(task.payload.after ?? 0) };
      const rows: { contact_id: number | string }[] = await m.query(
        `SELECT DISTINCT contact_id FROM import_rows WHERE import_id = ? AND status = 'valid' AND contact_id > ?
          ORDER BY contact_id LIMIT ${TERMS_CHUNK}`,
        [payload.importId, payload.after],
      );
      if (rows.length === 0) return false;
      const ids = rows.map((r) => Number(r.contact_id));
      await refreshSearchTerms(m, ids);
      await m.update(Task, { id: taskId }, { payload: { ...payload, after: ids[ids.length - 1] } });
      return ids.length === TERMS_CHUNK;
    });
  }

  /** The import and its report; null when there is no such import. */
  async getImport(id: number): Promise<ImportReport | null> {
    const manager = this.deps.dataSource.manager;
    const [row]: ImportDbRow[] = await manager.query('SELECT * FROM imports WHERE id = ?', [id]);
    if (!row) return null;
    const listed: { row_no: number | string; status: string; code: string | null; message: string | null }[] = await manager.query(
      `SELECT row_no, status, code, message FROM import_rows WHERE import_id = ? AND status = 'refused'
        ORDER BY row_no LIMIT ${REPORT_LIMIT}`,
      [id],
    );
    const duplicates: { row_no: number | string; message: string | null }[] = await manager.query(
      `SELECT row_no, message FROM import_rows WHERE import_id = ? AND status = 'duplicate' ORDER BY row_no LIMIT ${REPORT_LIMIT}`,
      [id],
    );
    const header = row.header ? (JSON.parse(row.header) as { ignored?: string[] }) : {};
    const [created, updated] = [Number(row.created), Number(row.updated)];
    return {
      id: Number(row.id),
      status: row.status,
      fileName: row.file_name,
      encoding: row.encoding,
      eventId: row.event_id === null ? null : Number(row.event_id),
      tags: JSON.parse(row.tags) as string[],
      overwrite: Boolean(Number(row.overwrite)),
      total: Number(row.total),
      imported: created + updated,
      created,
      updated,
      refused: listed.map((r) => ({ row: Number(r.row_no), code: r.code ?? '', message: r.message ?? '' })),
      refusedCount: Number(row.refused),
      duplicates: Number(row.duplicates),
      duplicateRows: duplicates.map((r) => ({ row: Number(r.row_no), firstRow: Number(/\d+/.exec(r.message ?? '')?.[0] ?? 0) })),
      ignoredColumns: header.ignored ?? [],
      error: row.error,
      createdAt: fromSqlDate(row.created_at).toISOString(),
      appliedAt: row.applied_at === null ? null : fromSqlDate(row.applied_at).toISOString(),
    };
  }

  /**
   * The refused rows as CSV for Excel (UTF-8 with a BOM, which Excel needs to read it as
   * UTF-8): 行号, 原因代码, 原因, then the file's own columns as read, so the operator fixes them
   * and imports the file again. null when there is no such import.
   */
  async refusedCsv(id: number): Promise<string | null> {
    const manager = this.deps.dataSource.manager;
    const [row]: { header: string | null }[] = await manager.query('SELECT header FROM imports WHERE id = ?', [id]);
    if (!row) return null;
    const header = row.header ? (JSON.parse(row.header) as { cells?: string[] }) : {};
    const rows: { row_no: number | string; code: string | null; message: string | null; raw: string | null }[] = await manager.query(
      "SELECT row_no, code, message, raw FROM import_rows WHERE import_id = ? AND status = 'refused' ORDER BY row_no",
      [id],
    );
    let csv = CSV_BOM + formatCsvRow(['行号', '原因代码', '原因', ...(header.cells ?? [])]);
    for (const r of rows) csv += formatCsvRow([Number(r.row_no), r.code, r.message, ...(r.raw ? (JSON.parse(r.raw) as string[]) : [])]);
    return csv;
  }
}

interface ImportDbRow {
  id: number | string;
  status: ImportStatus;
  file_name: string | null;
  encoding: string | null;
  event_id: number | string | null;
  tags: string;
  overwrite: number | boolean;
  header: string | null;
  total: number | string;
  refused: number | string;
  duplicates: number | string;
  created: number | string;
  updated: number | string;
  error: string | null;
  created_at: unknown;
  applied_at: unknown;
}

/** `展会:2026上海工业展` → group 展会, tag 2026上海工业展; a name without a group goes to the group 导入. */
export function parseTagName(text: string): TagRef {
  const trimmed = text.trim();
  const colon = trimmed.search(/[:：]/);
  if (colon <= 0) return { group: DEFAULT_TAG_GROUP, name: trimmed };
  return { group: trimmed.slice(0, colon).trim(), name: trimmed.slice(colon + 1).trim() };
}

export const DEFAULT_TAG_GROUP = '导入';

/**
 * Rows without a contact take the one their phone identity names: MySQL's multi-table UPDATE (a
 * join), SQLite's correlated subquery. `created`: the contacts were just made by this import.
 */
async function matchByPhone(m: EntityManager, importId: number, p: { created: boolean }): Promise<void> {
  const created = p.created ? 1 : 0;
  if (isMysqlManager(m))
    await m.query(
      `UPDATE import_rows r JOIN contact_identities ci ON ci.kind = 'phone' AND ci.app_id = '' AND ci.value = r.phone
          SET r.contact_id = ci.contact_id, r.created = ${created}
        WHERE r.import_id = ? AND r.status = 'valid' AND r.contact_id IS NULL`,
      [importId],
    );
  else
    await m.query(
      `UPDATE import_rows SET created = ${created},
              contact_id = (SELECT ci.contact_id FROM contact_identities ci
                             WHERE ci.kind = 'phone' AND ci.app_id = '' AND ci.value = import_rows.phone)
        WHERE import_id = ? AND status = 'valid' AND contact_id IS NULL`,
      [importId],
    );
}

async function insertStagedRows(manager: EntityManager, importId: number, rows: StagedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query(
    'INSERT INTO import_rows (import_id, row_no, status, phone, name, company, title, email, unionid, external_user_id, openid, ' +
      'code, message, raw) VALUES ' +
      rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(','),
    rows.flatMap((r) => [
      importId,
      r.rowNo,
      r.status,
      r.values?.phone ?? null,
      r.values?.name ?? null,
      r.values?.company ?? null,
      r.values?.title ?? null,
      r.values?.email ?? null,
      r.values?.unionid ?? null,
      r.values?.externalUserId ?? null,
      r.values?.openid ?? null,
      r.code,
      r.message?.slice(0, 255) ?? null,
      r.raw ? JSON.stringify(r.raw) : null,
    ]),
  );
}
