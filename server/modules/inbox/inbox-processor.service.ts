import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { CallbackInbox } from '../../../entities/callback-inbox.entity';
import { Contact } from '../../../entities/contact.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { OfficialAccountClient } from '../../adapters/official-account.client';
import { PlatformApiError } from '../../adapters/platform-error';
import type { WecomClient } from '../../adapters/wecom.client';
import { placeholders } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { parseWecomEvent, type WecomEvent } from '../../wechat/wecom-event';
import { parseXmlMessage } from '../../wechat/xml';
import type { ContactsService } from '../contacts/contacts.service';
import type { AddPointsParams, ScoringService } from '../scoring/scoring.service';
import type { TagRulesEngine } from '../tag-rules/tag-rules.engine';
import { findWecomTagIds } from '../tag-sync/tag-sync.service';
import type { TagsService } from '../tags/tags.service';
import type { InboxService } from './inbox.service';

/** Interactions that show the contact is engaged (AARRR "activated"). */
const ACTIVE_TYPES = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'click', 'view', 'scan']);
/** WeCom pushes after which the customer's detail (name, unionid, tags) is fetched. */
const CONTACT_DETAIL_CHANGES = new Set(['add_external_contact', 'edit_external_contact', 'add_half_external_contact']);

type ExternalContact = Awaited<ReturnType<WecomClient['getExternalContact']>>;
type CorpTagGroups = Awaited<ReturnType<WecomClient['getCorpTagList']>>;

/** What the rows of one batch share inside its transaction. */
interface BatchContext {
  contactIdOf(interaction: Interaction): Promise<number | null>;
  /** Contacts to move to `activated`, in one statement at the end of the batch. */
  activated: Set<number>;
  /** Rule points, scored in bulk at the end of the batch. */
  points: AddPointsParams[];
}

/** The writes of one inbox row, run inside the batch's transaction. */
type Apply = (m: EntityManager, ctx: BatchContext) => Promise<void>;

interface Step {
  apply: Apply;
  /** It may merge contacts (a unionid came back), which changes who later rows belong to. */
  mayMerge: boolean;
}

interface PreparedRow extends Step {
  row: CallbackInbox;
  interaction: Interaction;
}

export interface InboxProcessorDeps {
  dataSource: DataSource;
  transactor: Transactor;
  inbox: InboxService;
  contacts: ContactsService;
  tags: TagsService;
  rules: TagRulesEngine;
  scoring: ScoringService;
  /** null: the platform is not configured (its rows can only predate that); lookups are skipped. */
  officialAccount: OfficialAccountClient | null;
  wecom: WecomClient | null;
  clock: Clock;
  logger: Logger;
  /** How long a kick waits before its pass; see kick(). */
  batchDelayMs?: number;
  /** Rows per batch (one transaction), and rows per pass before the pass yields to the next. */
  batchSize?: number;
  passLimit?: number;
}

/** Tags and scores show up this much later; the callbacks' answers do not wait for it. */
const DEFAULT_BATCH_DELAY_MS = 50;
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_PASS_LIMIT = 10_000;

/**
 * The work that follows the reply: user-info and contact-detail fetches, identity merges,
 * source channels, tag rules, scores and tag syncs. It runs from the stored inbox row, so a crash
 * after the reply only delays it (the row is replayed at start-up and by the inbox job).
 * Platform calls happen before the transaction; everything it writes commits together with
 * the row being marked done, and every write is idempotent, so a replay changes nothing.
 */
export class InboxProcessor {
  private running: Promise<number> | null = null;
  private again = false;
  private stopping = false;
  /** The last pass stopped at its batch limit, not because nothing was due. */
  private moreDue = false;

  constructor(private readonly deps: InboxProcessorDeps) {}

  /**
   * Asks for a pass soon, after the HTTP reply has gone; overlapping asks coalesce. The pass
   * starts `batchDelayMs` later, so that under load it finds a batch rather than the last group
   * of callbacks: each batch costs a dozen statements whatever its size, and each statement wakes
   * the database (with the delay, MySQL spent ~7% less CPU per callback, the server ~5%).
   */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const delayMs = this.deps.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    this.running = new Promise((resolve) => setTimeout(resolve, delayMs))
      .then(() => this.processDue())
      .catch((error: unknown) => {
        this.deps.logger.error('inbox pass failed', { error: error instanceof Error ? error : String(error) });
        return 0;
      })
      .finally(() => {
        this.running = null;
        // A pass that stopped at its limit left rows due, and after a burst no callback may come
        // to kick again: go on.
        if (this.again || this.moreDue) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** At shutdown: finish the batch in hand and take no more (what is left waits in the inbox). */
  stop(): void {
    this.stopping = true;
  }

  /** Resolves when the current pass (if any) is over; for shutdown and tests. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Processes due rows until a claim comes back short (everything due is taken) or the pass limit
   * is reached; returns how many were done. Each batch first does its platform lookups row by
   * row, yielding to the event loop in between (so under a burst the callbacks, which must answer
   * within 5 s, come first), then writes the whole batch in one transaction, with set-based
   * statements where rows share work (loading interactions, stage changes, marking rows done). If
   * that fails, the rows are written one by one, so one bad row only fails (and is retried) alone.
   */
  async processDue(): Promise<number> {
    const batchSize = this.deps.batchSize ?? DEFAULT_BATCH_SIZE;
    const maxBatches = Math.ceil((this.deps.passLimit ?? DEFAULT_PASS_LIMIT) / batchSize);
    let done = 0;
    this.moreDue = false;
    for (let i = 0; i < maxBatches && !this.stopping; i += 1) {
      const rows = await this.deps.inbox.claimDue(batchSize);
      if (rows.length === 0) return done;
      const interactions = await this.loadInteractions(rows);
      const prepared: PreparedRow[] = [];
      for (const row of rows) {
        await new Promise((resolve) => setImmediate(resolve));
        try {
          prepared.push(await this.prepareRow(row, interactions.get(row.dedupeKey)));
        } catch (error) {
          await this.fail(row, error);
        }
      }
      if (prepared.length > 0) done += await this.applyPrepared(prepared);
      // A partial batch was everything due: what arrives next waits for the next kick (see kick())
      // and comes as a batch, instead of a trickle of small ones.
      if (rows.length < batchSize) return done;
    }
    this.moreDue = !this.stopping;
    return done;
  }

  /** One transaction for the batch; if it fails, row by row, so a bad row fails alone. */
  private async applyPrepared(prepared: PreparedRow[]): Promise<number> {
    try {
      await this.deps.transactor.run((m) => this.applyBatch(m, prepared));
      return prepared.length;
    } catch {
      let done = 0;
      for (const p of prepared) {
        try {
          await this.deps.transactor.run((m) => this.applyBatch(m, [p]));
          done += 1;
        } catch (error) {
          await this.fail(p.row, error);
        }
      }
      return done;
    }
  }

  private async applyBatch(m: EntityManager, batch: PreparedRow[]): Promise<void> {
    // Rows that may merge contacts change who later rows belong to: then each row looks up its
    // contact afresh; otherwise one query serves the batch.
    const owners = batch.some((p) => p.mayMerge) ? null : await this.currentContactIds(m, batch.map((p) => p.interaction.id));
    const ctx: BatchContext = {
      contactIdOf: async (interaction) => (owners ? (owners.get(interaction.id) ?? null) : ((await this.currentContactIds(m, [interaction.id])).get(interaction.id) ?? null)),
      activated: new Set(),
      points: [],
    };
    for (const p of batch) await p.apply(m, ctx);
    await this.deps.contacts.advanceStage(m, [...ctx.activated], 'activated');
    await this.deps.scoring.addPointsMany(m, ctx.points);
    await this.deps.inbox.markDone(m, batch.map((p) => p.row));
  }

  /** By dedupe key: an inbox row and its interaction share it. */
  private async loadInteractions(rows: CallbackInbox[]): Promise<Map<string, Interaction>> {
    const found = await this.deps.dataSource.manager.findBy(Interaction, { dedupeKey: In(rows.map((r) => r.dedupeKey)) });
    return new Map(found.map((i) => [i.dedupeKey ?? '', i]));
  }

  private async fail(row: CallbackInbox, error: unknown): Promise<void> {
    this.deps.logger.warn('inbox row failed; will retry', { inboxId: row.id, attempts: row.attempts, error: error instanceof Error ? error : String(error) });
    await this.deps.inbox.markFailed(row, error instanceof Error ? error.message : String(error));
  }

  /** Parses the stored callback and does its platform lookups; the writes wait in `apply`. */
  private async prepareRow(row: CallbackInbox, interaction: Interaction | undefined): Promise<PreparedRow> {
    if (!interaction) throw new Error(`inbox row ${row.id} has no interaction`);
    // Official Account rows need nothing beyond the interaction mapped from them at accept time
    // (openid, scene), so only WeCom pushes are parsed again.
    const step =
      row.source === 'oa' ? await this.prepareOfficialAccount(interaction) : await this.prepareWecom(interaction, parseWecomEvent(parseXmlMessage(row.payload)));
    return { row, interaction, ...step };
  }

  private async prepareOfficialAccount(interaction: Interaction): Promise<Step> {
    const { openid, scene } = interaction.detail;
    const client = this.deps.officialAccount;
    const userInfo = client && interaction.type === 'subscribe' && typeof openid === 'string' ? await this.fetchOptional(() => client.getUserInfo(openid)) : null;
    const apply: Apply = async (m, ctx) => {
      let contactId = await ctx.contactIdOf(interaction);
      if (contactId === null) return;
      if (userInfo) {
        await this.deps.contacts.updateProfile(m, contactId, { name: userInfo.nickname, avatarUrl: userInfo.avatarUrl });
        if (userInfo.unionid) contactId = await this.deps.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: userInfo.unionid });
      }
      if (interaction.type === 'subscribe' || interaction.type === 'scan') {
        await this.deps.contacts.recordSource(m, contactId, typeof scene === 'string' && scene !== '' ? scene : 'oa', interaction.occurredAt);
      }
      await this.applyCommon(m, ctx, contactId, interaction);
    };
    return { apply, mayMerge: Boolean(userInfo?.unionid) };
  }

  private async prepareWecom(interaction: Interaction, ev: WecomEvent): Promise<Step> {
    const client = this.deps.wecom;
    if (ev.kind === 'change_external_tag') {
      const groups = ev.changeType === 'delete' || !client ? [] : await client.getCorpTagList(ev.tagType === 'tag' ? { tagIds: ev.tagId } : { groupIds: ev.tagId });
      return { apply: (m) => (ev.changeType === 'delete' ? this.deleteCorpTags(m, ev.tagId, ev.tagType) : this.upsertCorpTags(m, groups)), mayMerge: false };
    }
    if (ev.kind === 'unknown') return { apply: () => Promise.resolve(), mayMerge: false };

    const detail = client && CONTACT_DETAIL_CHANGES.has(ev.changeType) ? await this.fetchOptional(() => client.getExternalContact(ev.externalUserId)) : null;
    const follow = detail?.followUsers.find((f) => f.userId === ev.userId) ?? null;
    const unknownTagIds = follow ? await this.unknownWecomTagIds(follow.tagIds) : [];
    const corpTags = client && unknownTagIds.length > 0 ? await client.getCorpTagList({ tagIds: unknownTagIds }) : [];

    const apply: Apply = async (m, ctx) => {
      let contactId = await ctx.contactIdOf(interaction);
      if (contactId === null) return;
      if (detail) contactId = await this.applyExternalContactDetail(m, contactId, detail);
      if (ev.changeType === 'add_external_contact' || ev.changeType === 'add_half_external_contact') {
        await this.deps.contacts.updateProfile(m, contactId, { ownerUserId: ev.userId });
        const state = ev.state ?? follow?.state ?? null;
        await this.deps.contacts.recordSource(m, contactId, state ? state : 'wecom', interaction.occurredAt);
      }
      if (follow && ev.changeType === 'edit_external_contact') {
        await this.upsertCorpTags(m, corpTags);
        await this.reconcileWecomTags(m, contactId, follow.tagIds);
      }
      await this.applyCommon(m, ctx, contactId, interaction);
    };
    return { apply, mayMerge: Boolean(detail?.unionid) };
  }

  /** Stage and rules, common to every channel. */
  private async applyCommon(m: EntityManager, ctx: BatchContext, contactId: number, interaction: Interaction): Promise<void> {
    if (ACTIVE_TYPES.has(interaction.type)) ctx.activated.add(contactId);
    await this.deps.rules.applyRules(m, { contactId, interactionId: interaction.id, type: interaction.type, detail: interaction.detail }, ctx.points);
  }

  private async applyExternalContactDetail(m: EntityManager, contactId: number, detail: ExternalContact): Promise<number> {
    await this.deps.contacts.updateProfile(m, contactId, { name: detail.name, avatarUrl: detail.avatarUrl });
    if (!detail.unionid) return contactId;
    return this.deps.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: detail.unionid });
  }

  /**
   * Who the interactions belong to now: a contact merged since an interaction was stored lives
   * on in the survivor (the merge moved the interaction rows too; merges only chain forward).
   */
  private async currentContactIds(m: EntityManager, interactionIds: number[]): Promise<Map<number, number | null>> {
    const rows: { id: number | string; contact_id: number | string | null; merged_into_id: number | string | null }[] = await m.query(
      `SELECT i.id, i.contact_id, c.merged_into_id FROM interactions i LEFT JOIN contacts c ON c.id = i.contact_id WHERE i.id IN (${placeholders(interactionIds.length)})`,
      interactionIds,
    );
    const owners = new Map<number, number | null>();
    for (const row of rows) {
      let contactId = row.contact_id == null ? null : Number(row.contact_id);
      let mergedInto = row.merged_into_id == null ? null : Number(row.merged_into_id);
      for (let hops = 0; mergedInto !== null && hops < 10; hops += 1) {
        contactId = mergedInto;
        const next = await m.findOne(Contact, { where: { id: contactId }, select: { id: true, mergedIntoId: true } });
        mergedInto = next?.mergedIntoId ?? null;
      }
      owners.set(Number(row.id), contactId);
    }
    return owners;
  }

  /**
   * Platform lookups that enrich but are not essential: a permanent refusal (user unfollowed,
   * no permission) is logged and processing goes on; a transient failure retries the whole row.
   */
  private async fetchOptional<T>(fetch: () => Promise<T>): Promise<T | null> {
    try {
      return await fetch();
    } catch (error) {
      if (error instanceof PlatformApiError && !error.retryable) {
        this.deps.logger.warn('platform lookup refused; continuing without it', { api: error.api, errcode: error.errcode });
        return null;
      }
      throw error;
    }
  }

  private async unknownWecomTagIds(tagIds: string[]): Promise<string[]> {
    if (tagIds.length === 0) return [];
    const known = await this.deps.dataSource.manager.find(Tag, { where: { wecomTagId: In(tagIds) }, select: { wecomTagId: true } });
    const knownIds = new Set(known.map((t) => t.wecomTagId));
    return tagIds.filter((id) => !knownIds.has(id));
  }

  /** Edits made inside WeCom come back: the customer's corp tags there become their tags here. */
  private async reconcileWecomTags(m: EntityManager, contactId: number, wecomTagIds: string[]): Promise<void> {
    const wanted = wecomTagIds.length > 0 ? await m.findBy(Tag, { wecomTagId: In(wecomTagIds) }) : [];
    const held = await findWecomTagIds(m, contactId);
    const wantedIds = new Set(wecomTagIds);
    const remove = await m.findBy(Tag, { id: In([...held].filter(([wecomId]) => !wantedIds.has(wecomId)).map(([, id]) => id)) });
    await this.deps.tags.applyTags(m, { contactId, add: wanted, remove, source: 'wecom', origin: 'wecom' });
  }

  /** Mirrors corp tag groups and tags from WeCom (create, rename, shuffle). */
  private async upsertCorpTags(m: EntityManager, groups: CorpTagGroups): Promise<void> {
    const now = this.deps.clock.now();
    for (const g of groups) {
      let group = (await m.findOneBy(TagGroup, { wecomGroupId: g.groupId })) ?? (await m.findOneBy(TagGroup, { name: g.groupName }));
      if (!group) {
        await m.insert(TagGroup, { name: g.groupName.slice(0, 64), syncOa: true, syncWecom: true, wecomGroupId: g.groupId, createdAt: now });
        group = await m.findOneByOrFail(TagGroup, { wecomGroupId: g.groupId });
      } else if (group.wecomGroupId !== g.groupId || group.name !== g.groupName) {
        await m.update(TagGroup, { id: group.id }, { wecomGroupId: g.groupId, name: g.groupName.slice(0, 64) });
      }
      for (const t of g.tags) {
        const existing = (await m.findOneBy(Tag, { wecomTagId: t.id })) ?? (await m.findOneBy(Tag, { groupId: group.id, name: t.name }));
        if (t.deleted) {
          if (existing) await this.deleteCorpTags(m, [t.id], 'tag');
        } else if (!existing) {
          await m.insert(Tag, { groupId: group.id, name: t.name.slice(0, 64), wecomTagId: t.id, createdAt: now });
        } else if (existing.name !== t.name || existing.wecomTagId !== t.id || existing.groupId !== group.id) {
          await m.update(Tag, { id: existing.id }, { name: t.name.slice(0, 64), wecomTagId: t.id, groupId: group.id });
        }
      }
    }
  }

  /** A corp tag (or group) deleted in WeCom disappears here too, with its contact tags. */
  private async deleteCorpTags(m: EntityManager, ids: string[], type: 'tag' | 'tag_group'): Promise<void> {
    const tags =
      type === 'tag'
        ? await m.findBy(Tag, { wecomTagId: In(ids) })
        : await m.findBy(Tag, { groupId: In((await m.findBy(TagGroup, { wecomGroupId: In(ids) })).map((g) => g.id)) });
    if (tags.length === 0) return;
    const tagIds = tags.map((t) => t.id);
    await m.delete(ContactTag, { tagId: In(tagIds) });
    await m.delete(Tag, { id: In(tagIds) });
  }
}
