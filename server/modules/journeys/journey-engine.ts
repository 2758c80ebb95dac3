import crypto from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import type { OutboxChannel } from '../../../entities/outbox-message.entity';
import type { TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { claimMethodFor } from '../../db/lease-queue';
import { executeCountingRows, fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { withJourney } from '../content/content-links';
import { customWindowOpen } from '../../wechat/custom-message';
import { readCustomWindows, type CustomWindow } from '../outbox/custom-window';
import type { OutboxDraft, OutboxService } from '../outbox/outbox.service';
import { getUtcOffsetMinutes } from '../reports/business-day';
import type { AddPointsParams, ScoringService } from '../scoring/scoring.service';
import type { ContactTagsService } from '../tags/contact-tags.service';
import type { Condition, JourneyAction, JourneyDefinition, SendNode, WaitNode } from './journey-definition';
import type { SalesPort, SegmentsPort } from './journey-ports';
import { enterRuns, findActiveJourneyByName, type JourneyDefinitions } from './journey-runs';
import { LINK_TTL_SECONDS, type LinkSigner } from './tracked-links';

export interface JourneyEngineDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  definitions: JourneyDefinitions;
  outbox: OutboxService;
  contactTags: ContactTagsService;
  scoring: ScoringService;
  segments: SegmentsPort;
  sales: SalesPort;
  links: () => Promise<LinkSigner>;
  publicBaseUrl: string;
  /** Where "until 09:00" is read when the contact has no zone of its own (BUSINESS_TIMEZONE). */
  timezone: string;
  /** The Official Account whose customer-service windows a `preferred` send to oa_custom needs (null: none configured). */
  oaAppId?: string | null;
  /** Runs per transaction. */
  batchSize?: number;
}

interface RunRow {
  id: number;
  journeyId: number;
  version: number;
  contactId: number;
  nodeId: string;
  state: 'active' | 'waiting';
  stepSeq: number;
  guardKey: string | null;
}

/** What one run's step decided; the batch writes them set-based. */
interface RunMove {
  run: RunRow;
  nodeId: string;
  state: 'active' | 'waiting' | 'completed' | 'exited';
  stepSeq: number;
  nextDueAt: Date | null;
  waitForNode: string | null;
  outcome: string | null;
  /** The outcome of the step the run was waiting in, closed now; null when it was not waiting. */
  closedOutcome: string | null;
}

const DEFAULT_BATCH = 1_000;
/** Nodes one run may pass in one step; a definition cannot loop without a wait, so this is a safety net. */
const MAX_NODES_PER_STEP = 64;

/**
 * The journey engine: advances due runs in batches, each batch one transaction holding every
 * run's effects (outbox rows, tags, points, entries into other journeys), its step log and its new
 * position. Runs are claimed by locking them: `FOR UPDATE SKIP LOCKED` on MySQL 8 / MariaDB 10.6+
 * (two instances take disjoint batches), SQLite's single writer elsewhere; and every run's move is
 * a guarded UPDATE on its step counter, so a batch that raced another instance rolls back whole.
 * Replaying a step writes nothing twice: outbox keys `journey:<run>:<node>`, step keys (run, seq),
 * ledger keys `journey:<run>:<node>`.
 */
export class JourneyEngine {
  constructor(private readonly deps: JourneyEngineDeps) {}

  /** Advances every due run (up to `limit`), batch after batch; returns how many runs moved. */
  async advanceDue(p: { limit?: number } = {}): Promise<number> {
    const limit = p.limit ?? 1_000_000;
    let moved = 0;
    while (moved < limit) {
      const n = await this.advanceBatch(Math.min(this.deps.batchSize ?? DEFAULT_BATCH, limit - moved));
      moved += n;
      if (n === 0) break;
    }
    return moved;
  }

  /** When the next run is due after `after` (active journeys only), for the sandbox clock's step-by-step play. */
  async nextDueAt(after: Date): Promise<Date | null> {
    const [row]: { due: unknown }[] = await this.deps.dataSource.query(
      "SELECT MIN(r.next_due_at) AS due FROM journey_runs r JOIN journeys j ON j.id = r.journey_id WHERE j.status = 'active' AND r.next_due_at > ?",
      [toSqlDate(after)],
    );
    return row?.due ? fromSqlDate(row.due) : null;
  }

  private async advanceBatch(size: number): Promise<number> {
    const method = await claimMethodFor(this.deps.dataSource);
    return this.deps.transactor.run(
      async (m) => {
        const now = this.deps.clock.now();
        const active: { id: number }[] = await m.query("SELECT id FROM journeys WHERE status = 'active'");
        if (active.length === 0) return 0;
        const ids = active.map((r) => Number(r.id));
        const lock = isMysqlManager(m) && method === 'skip-locked' ? ' FOR UPDATE SKIP LOCKED' : isMysqlManager(m) ? ' FOR UPDATE' : '';
        const rows: Record<string, unknown>[] = await m.query(
          `SELECT id, journey_id, version, contact_id, node_id, state, step_seq, guard_key FROM journey_runs ${dueIndex(m)} ` +
            `WHERE next_due_at <= ? AND journey_id IN (${placeholders(ids.length)}) ORDER BY next_due_at LIMIT ${Number(size)}${lock}`,
          [toSqlDate(now), ...ids],
        );
        if (rows.length === 0) return 0;
        const runs: RunRow[] = rows.map((r) => ({
          id: Number(r.id),
          journeyId: Number(r.journey_id),
          version: Number(r.version),
          contactId: Number(r.contact_id),
          nodeId: String(r.node_id),
          state: r.state === 'waiting' ? 'waiting' : 'active',
          stepSeq: Number(r.step_seq),
          guardKey: typeof r.guard_key === 'string' ? r.guard_key : null,
        }));
        await followMerges(m, runs);
        const batch = new BatchContext(m, runs, this.deps, now);
        for (const run of runs) await batch.advance(run, await this.deps.definitions.definitionOf(m, run.journeyId, run.version));
        await batch.write();
        return runs.length;
      },
      { readCommitted: true },
    );
  }
}

type StepRow = [
  journeyId: number,
  runId: number,
  seq: number,
  nodeId: string,
  enteredAt: string,
  leftAt: string | null,
  outcome: string | null,
];

/** One batch's reads (loaded once for all its contacts, on first need) and writes (made at the end). */
class BatchContext {
  private readonly nowSql: string;
  private readonly steps: StepRow[] = [];
  private readonly moves: RunMove[] = [];
  private readonly drafts: OutboxDraft[] = [];
  private readonly points: AddPointsParams[] = [];
  /** Stage moves by journey, then stage: the history names the journey that moved each contact. */
  private readonly stages = new Map<number, Map<LifecycleStage, number[]>>();
  private readonly assignments: number[] = [];
  private readonly preferences = new Map<number, string>();
  private tags: Promise<Map<number, Set<string>>> | null = null;
  private contacts: Promise<Map<number, Record<string, unknown>>> | null = null;
  private identities: Promise<Map<number, Set<string>>> | null = null;
  private opens: Promise<Set<string>> | null = null;
  private preferred: Promise<Map<number, string>> | null = null;
  private windows: Promise<Map<number, CustomWindow>> | null = null;
  private readonly segments = new Map<number, Promise<Set<number>>>();
  private names: Promise<Map<number, string>> | null = null;
  private readonly contactIds: number[];

  constructor(
    private readonly m: EntityManager,
    private readonly runs: RunRow[],
    private readonly deps: JourneyEngineDeps,
    private readonly now: Date,
  ) {
    this.nowSql = toSqlDate(now);
    this.contactIds = [...new Set(runs.map((r) => r.contactId))];
  }

  /** The journey's name now, for the histories that name who changed a contact (one query per batch). */
  private async journeyName(journeyId: number): Promise<string> {
    this.names ??= (async () => {
      const ids = [...new Set(this.runs.map((r) => r.journeyId))];
      const rows: { id: number | string; name: string }[] = await this.m.query(
        `SELECT id, name FROM journeys WHERE id IN (${placeholders(ids.length)})`,
        ids,
      );
      return new Map(rows.map((r) => [Number(r.id), r.name]));
    })();
    return (await this.names).get(journeyId) ?? String(journeyId);
  }

  async advance(run: RunRow, def: JourneyDefinition): Promise<void> {
    const byId = new Map(def.nodes.map((n) => [n.id, n]));
    let seq = run.stepSeq;
    let current: string | undefined = run.nodeId;
    let closedOutcome: string | null = null;
    const end = (state: 'completed' | 'exited', nodeId: string, outcome: string): void => {
      this.moves.push({ run, nodeId, state, stepSeq: seq, nextDueAt: null, waitForNode: null, outcome, closedOutcome });
    };

    if (run.state === 'waiting') {
      const wait = byId.get(run.nodeId);
      if (wait?.type !== 'wait') return end('exited', run.nodeId, 'node_removed');
      if (wait.mode === 'until_opened') {
        const opened = await this.isOpened(run.id, wait.node ?? '');
        closedOutcome = opened ? 'opened' : 'timeout';
        current = opened ? wait.opened : wait.timeout;
      } else {
        closedOutcome = 'waited';
        current = wait.next;
      }
    }
    for (let hops = 0; hops < MAX_NODES_PER_STEP; hops += 1) {
      const node = current === undefined ? undefined : byId.get(current);
      if (!node) return end('completed', current ?? run.nodeId, 'end');
      const entered = seq;
      seq += 1;
      const leave = (outcome: string): void => {
        this.steps.push([run.journeyId, run.id, entered, node.id, this.nowSql, this.nowSql, outcome]);
      };
      switch (node.type) {
        case 'send':
          leave(await this.send(run, node));
          current = node.next;
          break;
        case 'action':
          await this.act(run, node.id, node.actions);
          leave('done');
          current = node.next;
          break;
        case 'condition': {
          const yes = await this.evaluate(run, node.condition);
          leave(yes ? 'then' : 'else');
          current = yes ? node.then : node.else;
          break;
        }
        case 'split': {
          const roll = bucketOf(run.contactId, `${run.journeyId}:${node.id}`);
          if (roll < node.holdoutPercent / 100) {
            leave('holdout');
            return end('exited', node.id, 'holdout');
          }
          const total = node.branches.reduce((sum, b) => sum + b.weight, 0);
          let point = ((roll - node.holdoutPercent / 100) / (1 - node.holdoutPercent / 100)) * total;
          let chosen = node.branches.length - 1;
          while (chosen > 0 && node.branches[chosen].weight === 0) chosen -= 1;
          for (const [i, b] of node.branches.entries()) {
            if (b.weight > 0 && point < b.weight) {
              chosen = i;
              break;
            }
            point -= b.weight;
          }
          leave(`branch_${chosen}`);
          current = node.branches[chosen].next;
          break;
        }
        case 'exit':
          leave('exit');
          return end('exited', node.id, 'exit');
        case 'wait': {
          if (node.mode === 'until_opened' && (await this.isOpened(run.id, node.node ?? ''))) {
            leave('opened');
            current = node.opened;
            break;
          }
          // Stays here: its step is open until the wait ends.
          this.steps.push([run.journeyId, run.id, entered, node.id, this.nowSql, null, null]);
          this.moves.push({
            run,
            nodeId: node.id,
            state: 'waiting',
            stepSeq: seq,
            nextDueAt: await this.waitUntil(run, node),
            waitForNode: node.mode === 'until_opened' ? (node.node ?? null) : null,
            outcome: null,
            closedOutcome,
          });
          return;
        }
      }
    }
    this.deps.logger.error('journey run passed too many nodes in one step', { runId: run.id });
    end('exited', current ?? run.nodeId, 'too_many_nodes');
  }

  /** "Until 09:00" is 09:00 where the contact lives: its own zone, else the node's, else the business zone. */
  private async waitUntil(run: RunRow, node: WaitNode): Promise<Date> {
    const now = this.now.getTime();
    if (node.mode === 'duration') return new Date(now + (node.seconds ?? 0) * 1000);
    if (node.mode === 'until_opened') return new Date(now + (node.timeoutSeconds ?? 0) * 1000);
    const own = (await this.loadContacts()).get(run.contactId)?.timeZone;
    const zone = typeof own === 'string' && own !== '' ? own : (node.timezone ?? this.deps.timezone);
    return nextTimeOfDay(this.now, node.time ?? '09:00', zone);
  }

  /** The message of a send node, into the outbox with this step (key `journey:<run>:<node>`). */
  private async send(run: RunRow, node: SendNode): Promise<string> {
    let channel: OutboxChannel;
    if (node.channel === 'preferred') {
      const preferred = (await this.loadPreferred()).get(run.contactId) ?? this.preferences.get(run.contactId);
      channel = (preferred as OutboxChannel | undefined) ?? node.fallback ?? 'oa_template';
      // A customer-service message reaches only a follower who wrote in the last 48 hours; where the
      // window is closed the preference would end in an `outside_window` skip, so the node's
      // fallback goes instead. (The driver checks the window again when it sends.)
      if (channel === 'oa_custom' && !(await this.customWindowOpen(run.contactId))) channel = node.fallback ?? 'oa_template';
    } else channel = node.channel;
    const url = node.url ? await this.trackedUrl(run, node, channel) : null;
    this.drafts.push({
      dedupeKey: `journey:${run.id}:${node.id}`,
      contactId: run.contactId,
      channel,
      purpose: node.purpose,
      source: { type: 'journey', id: String(run.journeyId), runId: run.id, nodeId: node.id },
      payload: payloadOf(node, channel, url),
    });
    return 'sent';
  }

  private async trackedUrl(run: RunRow, node: SendNode, channel: string): Promise<string> {
    const signer = await this.deps.links();
    const code = signer.sign({
      journeyId: run.journeyId,
      runId: run.id,
      nodeId: node.id,
      contactId: run.contactId,
      channel,
      // A content centre material's link says which journey sent it, so its view is credited to the journey.
      target: withJourney(node.url ?? '', this.deps.publicBaseUrl, run.journeyId),
      expiresAt: Math.floor(this.now.getTime() / 1000) + LINK_TTL_SECONDS,
    });
    return `${this.deps.publicBaseUrl}/r/${code}`;
  }

  private async act(run: RunRow, nodeId: string, actions: JourneyAction[]): Promise<void> {
    const cause = `journey:${run.id}:${nodeId}`;
    for (const action of actions) {
      switch (action.kind) {
        case 'add_tags':
        case 'remove_tags': {
          const tags = await Promise.all(action.tags.map((ref: TagRef) => this.deps.contactTags.ensureTag(this.m, ref)));
          await this.deps.contactTags.applyTags(this.m, {
            contactId: run.contactId,
            add: action.kind === 'add_tags' ? tags : [],
            remove: action.kind === 'remove_tags' ? tags : [],
            // The history names the journey, as a stage move does (not "system").
            actor: { kind: 'journey', id: run.journeyId, name: await this.journeyName(run.journeyId) },
            cause: 'journey',
          });
          break;
        }
        case 'add_score':
          this.points.push({
            contactId: run.contactId,
            points: action.points,
            reason: `journey ${run.journeyId} node ${nodeId}`,
            dedupeKey: cause,
          });
          break;
        case 'set_stage': {
          const byStage = this.stages.get(run.journeyId) ?? new Map<LifecycleStage, number[]>();
          byStage.set(action.stage, (byStage.get(action.stage) ?? []).concat(run.contactId));
          this.stages.set(run.journeyId, byStage);
          break;
        }
        case 'assign_sales':
          this.assignments.push(run.contactId);
          break;
        case 'set_preferred_channel':
          this.preferences.set(run.contactId, action.channel);
          break;
        case 'enter_journey': {
          const target = await findActiveJourneyByName(this.m, this.deps.definitions, action.journey);
          if (target) await enterRuns({ manager: this.m, journey: target, entries: [{ contactId: run.contactId, cause }], now: this.now });
          else this.deps.logger.warn('journey to enter is not active', { runId: run.id, journey: action.journey });
          break;
        }
      }
    }
  }

  private async evaluate(run: RunRow, c: Condition): Promise<boolean> {
    switch (c.kind) {
      case 'all':
        for (const sub of c.of) if (!(await this.evaluate(run, sub))) return false;
        return true;
      case 'any':
        for (const sub of c.of) if (await this.evaluate(run, sub)) return true;
        return false;
      case 'not':
        return !(await this.evaluate(run, c.of));
      case 'opened':
        return this.isOpened(run.id, c.node);
      case 'tags': {
        const held = (await this.loadTags()).get(run.contactId) ?? new Set<string>();
        const has = (t: TagRef) => held.has(`${t.group}/${t.name}`);
        return (c.all ?? []).every(has) && ((c.any ?? []).length === 0 || (c.any ?? []).some(has)) && !(c.none ?? []).some(has);
      }
      case 'score': {
        const score = Number((await this.loadContacts()).get(run.contactId)?.score ?? 0);
        return (c.min === undefined || score >= c.min) && (c.max === undefined || score <= c.max);
      }
      case 'stage':
        return c.in.includes((await this.loadContacts()).get(run.contactId)?.stage as LifecycleStage);
      case 'attribute': {
        const value = (await this.loadContacts()).get(run.contactId)?.[c.field];
        const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
        return c.op === 'set' ? text !== '' : c.op === 'unset' ? text === '' : text === (c.value ?? '');
      }
      case 'channel_reached': {
        const kinds = (await this.loadIdentities()).get(run.contactId) ?? new Set<string>();
        const needed = { oa: 'oa_openid', mp: 'mp_openid', wecom: 'external_userid', sms: 'phone' }[c.channel];
        const phone = c.channel === 'sms' && Boolean((await this.loadContacts()).get(run.contactId)?.phone);
        return kinds.has(needed) || phone;
      }
      case 'segment': {
        let members = this.segments.get(c.segmentId);
        if (!members) {
          members = this.deps.segments.isInSegment(this.m, this.contactIds, c.segmentId);
          this.segments.set(c.segmentId, members);
        }
        return (await members).has(run.contactId);
      }
    }
  }

  private async isOpened(runId: number, nodeId: string): Promise<boolean> {
    this.opens ??= (async () => {
      const ids = this.runs.map((r) => r.id);
      const rows: { run_id: number; node_id: string }[] = await this.m.query(
        `SELECT run_id, node_id FROM journey_opens WHERE run_id IN (${placeholders(ids.length)})`,
        ids,
      );
      return new Set(rows.map((r) => `${Number(r.run_id)}:${r.node_id}`));
    })();
    return (await this.opens).has(`${runId}:${nodeId}`);
  }

  private loadTags(): Promise<Map<number, Set<string>>> {
    this.tags ??= (async () => {
      const rows: { contact_id: number; g: string; t: string }[] = await this.m.query(
        'SELECT ct.contact_id, g.name AS g, t.name AS t FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id JOIN tag_groups g ON g.id = t.group_id ' +
          `WHERE ct.contact_id IN (${placeholders(this.contactIds.length)})`,
        this.contactIds,
      );
      const map = new Map<number, Set<string>>();
      for (const r of rows) map.set(Number(r.contact_id), (map.get(Number(r.contact_id)) ?? new Set()).add(`${r.g}/${r.t}`));
      return map;
    })();
    return this.tags;
  }

  private loadContacts(): Promise<Map<number, Record<string, unknown>>> {
    this.contacts ??= (async () => {
      const rows: Record<string, unknown>[] = await this.m.query(
        'SELECT id, score, stage, phone, remark, name, first_source AS firstSource, last_source AS lastSource, owner_user_id AS ownerUserId, ' +
          'time_zone AS timeZone ' +
          `FROM contacts WHERE id IN (${placeholders(this.contactIds.length)})`,
        this.contactIds,
      );
      return new Map(rows.map((r) => [Number(r.id), r]));
    })();
    return this.contacts;
  }

  private loadIdentities(): Promise<Map<number, Set<string>>> {
    this.identities ??= (async () => {
      const rows: { contact_id: number; kind: string }[] = await this.m.query(
        `SELECT contact_id, kind FROM contact_identities WHERE contact_id IN (${placeholders(this.contactIds.length)})`,
        this.contactIds,
      );
      const map = new Map<number, Set<string>>();
      for (const r of rows) map.set(Number(r.contact_id), (map.get(Number(r.contact_id)) ?? new Set()).add(r.kind));
      return map;
    })();
    return this.identities;
  }

  private async customWindowOpen(contactId: number): Promise<boolean> {
    const appId = this.deps.oaAppId;
    if (!appId) return false;
    this.windows ??= readCustomWindows(this.m, appId, this.contactIds);
    const window = (await this.windows).get(contactId);
    return window !== undefined && customWindowOpen(window.openedAt, this.now);
  }

  private loadPreferred(): Promise<Map<number, string>> {
    this.preferred ??= (async () => {
      const rows: { contact_id: number; channel: string }[] = await this.m.query(
        `SELECT contact_id, channel FROM contact_channel_preferences WHERE contact_id IN (${placeholders(this.contactIds.length)})`,
        this.contactIds,
      );
      return new Map(rows.map((r) => [Number(r.contact_id), r.channel]));
    })();
    return this.preferred;
  }

  /** The batch's writes: a constant number of statements for runs that move alike. */
  async write(): Promise<void> {
    const m = this.m;
    // The steps the waiting runs were in end now, grouped by how they ended.
    const closing = new Map<string, number[]>();
    for (const move of this.moves) {
      if (move.closedOutcome === null) continue;
      const ids = closing.get(move.closedOutcome) ?? [];
      ids.push(move.run.id);
      closing.set(move.closedOutcome, ids);
    }
    for (const [outcome, ids] of closing)
      await m.query(`UPDATE journey_steps SET left_at = ?, outcome = ? WHERE left_at IS NULL AND run_id IN (${placeholders(ids.length)})`, [
        this.nowSql,
        outcome,
        ...ids,
      ]);
    for (let i = 0; i < this.steps.length; i += 500) {
      const chunk = this.steps.slice(i, i + 500);
      await m.query(
        `INSERT INTO journey_steps (journey_id, run_id, seq, node_id, entered_at, left_at, outcome) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flat(),
      );
    }
    if (this.drafts.length > 0) await this.deps.outbox.enqueue({ manager: m, drafts: this.drafts });
    await this.deps.scoring.addPoints(m, this.points);
    for (const [journeyId, byStage] of this.stages)
      for (const [stage, ids] of byStage)
        await this.deps.sales.setStage(m, ids, stage, { id: journeyId, name: await this.journeyName(journeyId) });
    if (this.assignments.length > 0) await this.deps.sales.assignToSales(m, this.assignments, 'journey');
    for (const [contactId, channel] of this.preferences) await upsertPreferredChannel(m, contactId, channel, this.now);
    // Each run's new place, guarded by the step counter it was read with: runs that move alike share a statement.
    const groups = new Map<string, RunMove[]>();
    for (const move of this.moves) {
      const key = [
        move.nodeId,
        move.state,
        move.stepSeq - move.run.stepSeq,
        move.run.stepSeq,
        move.nextDueAt?.getTime(),
        move.waitForNode,
        move.outcome,
      ].join('|');
      const group = groups.get(key) ?? [];
      group.push(move);
      groups.set(key, group);
    }
    for (const moves of groups.values()) {
      const first = moves[0];
      const ended = first.state === 'completed' || first.state === 'exited';
      const ids = moves.map((mv) => mv.run.id);
      const changed = await executeCountingRows(
        m,
        'UPDATE journey_runs SET node_id = ?, state = ?, step_seq = step_seq + ?, next_due_at = ?, wait_for_node = ?, outcome = ?, ' +
          `ended_at = ?, guard_key = CASE WHEN guard_key = 'open' AND ? = 1 THEN NULL ELSE guard_key END WHERE step_seq = ? AND id IN (${placeholders(ids.length)})`,
        [
          first.nodeId,
          first.state,
          first.stepSeq - first.run.stepSeq,
          first.nextDueAt ? toSqlDate(first.nextDueAt) : null,
          first.waitForNode,
          first.outcome,
          ended ? this.nowSql : null,
          ended ? 1 : 0,
          first.run.stepSeq,
          ...ids,
        ],
      );
      // Another instance moved one of them first (possible only without row locks): undo the whole batch.
      if (changed !== ids.length) throw new Error(`journey runs moved concurrently (${changed} of ${ids.length})`);
    }
  }
}

/**
 * A run whose contact was merged into another acts on the survivor (its sends, tags, points, the
 * journeys it enters): the merge moved identities and tags there. The run row keeps its contact
 * id (moving it could clash with the survivor's own run under the re-entry key).
 */
async function followMerges(m: EntityManager, runs: RunRow[]): Promise<void> {
  let pending = runs;
  for (let hops = 0; hops < 16 && pending.length > 0; hops += 1) {
    const ids = [...new Set(pending.map((r) => r.contactId))];
    const merged: { id: number; merged_into_id: number }[] = await m.query(
      `SELECT id, merged_into_id FROM contacts WHERE merged_into_id IS NOT NULL AND id IN (${placeholders(ids.length)})`,
      ids,
    );
    if (merged.length === 0) return;
    const into = new Map(merged.map((r) => [Number(r.id), Number(r.merged_into_id)]));
    pending = pending.filter((r) => into.has(r.contactId));
    for (const run of pending) run.contactId = into.get(run.contactId) ?? run.contactId;
  }
}

/**
 * The claim reads the due index in order: left alone, both optimizers may take the
 * (journey, node, state) index for `journey_id IN (...)` and sort every run of the journey per batch.
 */
function dueIndex(m: EntityManager): string {
  return isMysqlManager(m) ? 'FORCE INDEX (IDX_journey_runs_due)' : 'INDEXED BY IDX_journey_runs_due';
}

/** Where the contact last opened a message: what `preferred` sends use. */
export async function upsertPreferredChannel(m: EntityManager, contactId: number, channel: string, now: Date): Promise<void> {
  const sql = isMysqlManager(m)
    ? 'INSERT INTO contact_channel_preferences (contact_id, channel, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE channel = VALUES(channel), updated_at = VALUES(updated_at)'
    : 'INSERT INTO contact_channel_preferences (contact_id, channel, updated_at) VALUES (?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET channel = excluded.channel, updated_at = excluded.updated_at';
  await m.query(sql, [contactId, channel, toSqlDate(now)]);
}

/** The channel API's body, without the recipient (the sender adds it). */
function payloadOf(node: SendNode, channel: OutboxChannel, url: string | null): Record<string, unknown> {
  const data = node.data ?? {};
  const valued = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { value: v }]));
  switch (channel) {
    case 'oa_template':
      return { template_id: node.templateId, ...(url ? { url } : {}), data: valued };
    case 'oa_subscribe':
      return { template_id: node.templateId, ...(url ? { page: url } : {}), data: valued };
    case 'mp_subscribe':
      // subscribe/send opens a page of the mini-program ("仅限本小程序内的页面"): it has no field for a
      // web URL, so the tracked link has nowhere to go (a `preferred` send landing here loses it).
      return {
        template_id: node.templateId,
        ...(node.page ? { page: node.page } : {}),
        ...(node.miniprogramState ? { miniprogram_state: node.miniprogramState } : {}),
        ...(node.lang ? { lang: node.lang } : {}),
        data: valued,
      };
    case 'sms':
      return { templateId: node.smsTemplateId ?? node.templateId, params: Object.values(data), ...(url ? { url } : {}) };
    case 'oa_custom':
      return { msgtype: 'text', text: { content: [node.text, url].filter(Boolean).join('\n') } };
    case 'wecom_group_msg':
      return {
        text: { content: node.text ?? '' },
        ...(url ? { attachments: [{ msgtype: 'link', link: { title: node.text?.slice(0, 64) ?? '', url } }] } : {}),
      };
  }
}

/** A contact's place in [0, 1) for a split node: the same every time (sticky), independent across nodes. */
export function bucketOf(contactId: number, salt: string): number {
  const digest = crypto.createHash('sha256').update(`${salt}:${contactId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * The next HH:MM (after `now`) on the wall clock of a time zone. The offset is the one in force at
 * that HH:MM (read at the candidate instant), so across a daylight-saving change "09:00 New York"
 * is still 09:00 there, not 08:00 or 10:00.
 */
export function nextTimeOfDay(now: Date, time: string, timeZone: string): Date {
  const local = new Date(now.getTime() + getUtcOffsetMinutes(timeZone, now) * 60_000);
  const [h, mi] = time.split(':').map(Number);
  const today = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), h, mi);
  for (let day = 0; day < 3; day += 1) {
    const wall = today + day * 86_400_000;
    const guess = wall - getUtcOffsetMinutes(timeZone, now) * 60_000;
    const at = wall - getUtcOffsetMinutes(timeZone, new Date(guess)) * 60_000;
    if (at > now.getTime()) return new Date(at);
  }
  return new Date(today + 3 * 86_400_000 - getUtcOffsetMinutes(timeZone, now) * 60_000);
}
