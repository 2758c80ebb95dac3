import type { DataSource, EntityManager } from 'typeorm';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { isUniqueViolation } from '../../db/errors';
import { placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { defineReaction, type Reaction } from '../reactions/reaction';
import type { ScoringSettingsStore } from '../scoring/scoring-settings';
import type { ContactTagsService } from '../tags/contact-tags.service';

/**
 * The tag and its group, created syncing nowhere: a system tag for segments and journeys, not for the
 * platforms (not 生命周期, which the default tag rules create syncing). An operator may turn its sync on.
 */
export const SILENT_TAG = { group: '客户状态', name: '沉默用户' } as const;

/** Contact ids per statement of the daily job: each range is one short transaction. */
const ID_RANGE = 10_000;

export interface SilentCustomersServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  contactTags: ContactTagsService;
  settings: ScoringSettingsStore;
  /**
   * Called after each committed range with the contacts just found silent: the re-activation
   * journey enrols them (wired in compose.ts once journeys exist). Its failure is logged; the tags stay.
   */
  onContactsSilent?: (contactIds: number[]) => Promise<void>;
}

/**
 * Silent customers (issue 14 §6): a daily job tags 沉默用户 on every live contact with no inbound
 * interaction for `silentDays` (set-based, a range of ids per statement, through ContactTagsService,
 * the one writer of contact_tags), and a reaction takes the tag off when they come back.
 * Outbound interactions (a push) do not move last_interaction_at, so being written to is no return.
 */
export class SilentCustomersService {
  constructor(private readonly deps: SilentCustomersServiceDeps) {}

  /** The daily job: returns how many contacts were tagged. */
  async tagSilentContacts(): Promise<number> {
    const { silentDays } = await this.deps.settings.readSettings();
    const cutoff = toSqlDate(new Date(this.deps.clock.now().getTime() - silentDays * 86_400_000));
    const tag = await this.deps.transactor.runRetrying((m) => this.ensureSilentTag(m));
    const [{ top }]: { top: number | string | null }[] = await this.deps.dataSource.query('SELECT MAX(id) AS top FROM contacts');
    let tagged = 0;
    for (let from = 0; from < Number(top ?? 0); from += ID_RANGE) {
      const ids = await this.deps.transactor.runRetrying((m) =>
        this.deps.contactTags.tagContactSet(m, {
          tag,
          contacts: {
            // The (merged_into_id, last_interaction_at) index range; a contact never heard from counts from its creation.
            where: 'c.id > ? AND c.id <= ? AND (c.last_interaction_at < ? OR (c.last_interaction_at IS NULL AND c.created_at < ?))',
            params: [from, from + ID_RANGE, cutoff, cutoff],
          },
          actor: { kind: 'system' },
          cause: 'silent',
        }),
      );
      tagged += ids.length;
      if (ids.length > 0 && this.deps.onContactsSilent) {
        await this.deps
          .onContactsSilent(ids)
          .catch((error: unknown) =>
            this.deps.logger.warn('onContactsSilent failed', { error: error instanceof Error ? error.message : String(error) }),
          );
      }
    }
    return tagged;
  }

  /** The tag, and its group created not syncing (ensureTag alone would create a syncing group). */
  async ensureSilentTag(manager: EntityManager): Promise<Tag> {
    if (!(await manager.findOneBy(TagGroup, { name: SILENT_TAG.group }))) {
      try {
        await manager.insert(TagGroup, { name: SILENT_TAG.group, syncOa: false, syncWecom: false, createdAt: this.deps.clock.now() });
      } catch (error) {
        // Deliberate: another instance created it meanwhile; ensureTag finds it.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    return this.deps.contactTags.ensureTag(manager, SILENT_TAG);
  }

  /** Takes 沉默用户 off the contacts of a batch that hold it (they just did something). */
  async untagReturned(manager: EntityManager, contactIds: number[]): Promise<void> {
    if (contactIds.length === 0) return;
    const rows: { contact_id: number | string; tag_id: number | string }[] = await manager.query(
      `SELECT ct.contact_id, ct.tag_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id JOIN tag_groups g ON g.id = t.group_id
        WHERE ct.contact_id IN (${placeholders(contactIds.length)}) AND t.name = ? AND g.name = ?`,
      [...contactIds, SILENT_TAG.name, SILENT_TAG.group],
    );
    if (rows.length === 0) return;
    const tag = await manager.findOneByOrFail(Tag, { id: Number(rows[0].tag_id) });
    for (const row of rows) {
      await this.deps.contactTags.applyTags(manager, {
        contactId: Number(row.contact_id),
        add: [],
        remove: [tag],
        actor: { kind: 'system' },
        cause: 'silent',
      });
    }
  }

  /** The reaction: an inbound interaction of a silent contact takes the tag off, at the batch's end. */
  createReaction(): Reaction {
    return defineReaction<true, Set<number>>({
      name: 'silent-customers',
      prepare: () => Promise.resolve(true),
      createState: () => new Set(),
      write(_m, row, _prepared, contacts) {
        if (row.contactId !== null) contacts.add(row.contactId);
        return Promise.resolve();
      },
      finish: (m, contacts, batch) => this.untagReturned(m, batch.survivors(contacts)),
    });
  }
}
