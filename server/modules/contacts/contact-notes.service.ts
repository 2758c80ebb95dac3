import type { AuditActor, AuditService } from '../audit/audit.service';
import type { Clock } from '../../adapters/clock';
import type { Transactor } from '../../db/transaction';
import { toSqlDate } from '../../db/sql';
import { maskPhone, type ContactScope, type ContactsQueryService } from './contacts-query.service';
import { lockContactRows } from './contacts.service';
import { refreshSearchTerms } from './search-terms';

/** The longest remark, in characters: a name and a few words ("展会A 王总 采购负责人"). */
export const REMARK_MAX_LENGTH = 100;

/**
 * A phone an operator may type: a mainland mobile (11 digits, optionally +86) or an international
 * number in E.164 (`+`, country code, at most 15 digits). Spaces and dashes are ignored.
 * @link https://www.itu.int/rec/T-REC-E.164
 */
export function normalizeTypedPhone(text: string): string | null {
  const compact = text.replace(/[\s-]/g, '');
  const mainland = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(compact);
  if (mainland) return mainland[1];
  return /^\+[1-9]\d{6,14}$/.test(compact) ? compact : null;
}

/**
 * An IANA time zone an operator may set (`America/New_York`, `asia/shanghai`), in its canonical
 * spelling, or null when the runtime does not know it. Names only: offsets (`+08:00`) and
 * abbreviations (`EST`) that some runtimes accept are refused, as the contact's clock follows its
 * zone's rules (daylight saving included), which an offset does not.
 */
export function normalizeTimeZone(text: string): string | null {
  const name = text.trim();
  if (!/^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)*$/.test(name) || name.length > 64) return null;
  if (/^[A-Z]{3,5}$/.test(name) && name !== 'UTC') return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export interface UpdateContactNotesParams {
  contactId: number;
  scope: ContactScope;
  /** undefined: unchanged; null or '': removed. */
  remark?: string | null;
  /** Already normalized (normalizeTypedPhone); undefined: unchanged; null: removed. */
  phone?: string | null;
  /** Already normalized (normalizeTimeZone); undefined: unchanged; null: the business zone again. */
  timeZone?: string | null;
  actor: AuditActor;
}

export interface ContactNotes {
  remark: string | null;
  phone: string | null;
  /** The contact's own time zone; null: the business zone (BUSINESS_TIMEZONE). */
  timeZone: string | null;
}

export type UpdateContactNotesResult = { ok: true; value: ContactNotes } | { ok: false; reason: 'not_found' };

export interface ContactNotesServiceDeps {
  transactor: Transactor;
  audit: AuditService;
  contactsQuery: ContactsQueryService;
  clock: Clock;
}

/**
 * The operator's own notes on a contact: a remark (shown as its name) and a phone number. Who may
 * write them is who may tag the contact: admins and operators any contact, a sales rep those they
 * follow (others answer not_found, as for reading). Each change is audited in its transaction,
 * with phone numbers masked as on a sales rep's screen.
 */
export class ContactNotesService {
  constructor(private readonly deps: ContactNotesServiceDeps) {}

  async updateContactNotes(params: UpdateContactNotesParams): Promise<UpdateContactNotesResult> {
    const visible = await this.deps.contactsQuery.findVisibleContact(params.contactId, params.scope);
    if (!visible || visible.mergedIntoId !== null) return { ok: false, reason: 'not_found' };
    return this.deps.transactor.runRetrying(async (manager) => {
      // Locked first: a merge either waits for this change (and carries the notes over) or has
      // moved the contact away, which then answers as a contact that is gone.
      const [locked] = await lockContactRows(manager, [params.contactId]);
      if (!locked || locked.mergedIntoId !== null) return { ok: false, reason: 'not_found' } as const;
      const rows: { remark: string | null; phone: string | null; time_zone: string | null }[] = await manager.query(
        'SELECT remark, phone, time_zone FROM contacts WHERE id = ?',
        [params.contactId],
      );
      const before: ContactNotes = { remark: rows[0]?.remark ?? null, phone: rows[0]?.phone ?? null, timeZone: rows[0]?.time_zone ?? null };
      const after: ContactNotes = {
        remark: params.remark === undefined ? before.remark : params.remark?.trim() || null,
        phone: params.phone === undefined ? before.phone : params.phone,
        timeZone: params.timeZone === undefined ? before.timeZone : params.timeZone,
      };
      if (after.remark === before.remark && after.phone === before.phone && after.timeZone === before.timeZone)
        return { ok: true, value: after } as const;
      await manager.query('UPDATE contacts SET remark = ?, phone = ?, time_zone = ?, updated_at = ? WHERE id = ?', [
        after.remark,
        after.phone,
        after.timeZone,
        toSqlDate(this.deps.clock.now()),
        params.contactId,
      ]);
      await refreshSearchTerms(manager, [params.contactId]);
      const masked = (phone: string | null) => (phone === null ? null : maskPhone(phone));
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'contact.update',
        targetType: 'contact',
        targetId: params.contactId,
        detail: {
          ...(after.remark !== before.remark ? { remarkBefore: before.remark, remarkAfter: after.remark } : {}),
          ...(after.phone !== before.phone ? { phoneBefore: masked(before.phone), phoneAfter: masked(after.phone) } : {}),
          ...(after.timeZone !== before.timeZone ? { timeZoneBefore: before.timeZone, timeZoneAfter: after.timeZone } : {}),
        },
      });
      return { ok: true, value: after } as const;
    });
  }
}
