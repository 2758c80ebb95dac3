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

export interface UpdateContactNotesParams {
  contactId: number;
  scope: ContactScope;
  /** undefined: unchanged; null or '': removed. */
  remark?: string | null;
  /** Already normalized (normalizeTypedPhone); undefined: unchanged; null: removed. */
  phone?: string | null;
  actor: AuditActor;
}

export interface ContactNotes {
  remark: string | null;
  phone: string | null;
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
      const rows: { remark: string | null; phone: string | null }[] = await manager.query(
        'SELECT remark, phone FROM contacts WHERE id = ?',
        [params.contactId],
      );
      const before: ContactNotes = { remark: rows[0]?.remark ?? null, phone: rows[0]?.phone ?? null };
      const after: ContactNotes = {
        remark: params.remark === undefined ? before.remark : params.remark?.trim() || null,
        phone: params.phone === undefined ? before.phone : params.phone,
      };
      if (after.remark === before.remark && after.phone === before.phone) return { ok: true, value: after } as const;
      await manager.query('UPDATE contacts SET remark = ?, phone = ?, updated_at = ? WHERE id = ?', [
        after.remark,
        after.phone,
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
        },
      });
      return { ok: true, value: after } as const;
    });
  }
}
