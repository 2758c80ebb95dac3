import crypto from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Journey, type JourneyStatus } from '../../../entities/journey.entity';
import { JourneyVersion } from '../../../entities/journey-version.entity';
import { TagRule } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import { executeCountingRows, insertedId, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { InteractionsService } from '../interactions/interactions.service';
import { matchRule } from '../tag-rules/tag-rules.engine';
import { getUtcOffsetMinutes } from '../reports/business-day';
import { upsertPreferredChannel } from './journey-engine';
import { validateDefinition, type DefinitionIssue, type InteractionMatcher, type JourneyDefinition } from './journey-definition';
import { checkRunMigration, type RunMigration, type WaitingAt } from './journey-migration';
import type { SegmentsPort } from './journey-ports';
import { enterRuns, type JourneyDefinitions, type PublishedJourney } from './journey-runs';
import { JOURNEY_TEMPLATES } from './journey-templates';
import type { LinkSigner } from './tracked-links';
import { materialCodeOf } from '../content/content-links';

export type JourneyResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid'; issues: DefinitionIssue[] }
  | { ok: false; reason: 'conflict'; code: string; message: string };

export interface JourneyView {
  id: number;
  name: string;
  status: JourneyStatus;
  template: string | null;
  publishedVersion: number | null;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface JourneyStats {
  /**
   * Per node: runs that entered it, wait in it and left it; of its messages, those sent, delivered
   * (TEMPLATESENDJOBFINISH) and opened (a tracked link followed); runs that converted or exited there.
   */
  nodes: {
    id: string;
    type: string;
    entered: number;
    waiting: number;
    completed: number;
    sent: number;
    delivered: number;
    opened: number;
    converted: number;
    exited: number;
  }[];
  totals: { entered: number; sent: number; delivered: number; opened: number; converted: number; exited: number };
}

export interface JourneysServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  interactions: Pick<InteractionsService, 'recordInteraction'>;
  definitions: JourneyDefinitions;
  segments: SegmentsPort;
  links: () => Promise<LinkSigner>;
  timezone: string;
  /** PUBLIC_BASE_URL: which send urls are the content centre's tracked links. */
  publicBaseUrl: string;
  /** The content centre: whether a material's link still opens (unknown and archived ones answer 404). */
  materials: { isLive(code: string): Promise<boolean> };
}

/** A publish's answer; with a mapping, `migrated` counts the waiting runs moved onto the version. */
export interface PublishedView {
  id: number;
  version: number;
  status: JourneyStatus;
  migrated?: number;
}

interface MigrationPlan extends RunMigration {
  waiting: WaitingAt[];
}

const MAX_ENROLL = 1_000;
/** The daily silent-customers job enrols: no operator, no address (the audit row says so). */
const SYSTEM_ACTOR: AuditActor = { operatorId: null, ip: null };

/** Journeys as operators manage them (create, version, publish, pause, enroll, figures) and as contacts enter them. */
export class JourneysService {
  constructor(private readonly deps: JourneysServiceDeps) {}

  listTemplates(): { key: string; name: string }[] {
    return JOURNEY_TEMPLATES.map((t) => ({ key: t.key, name: t.name }));
  }

  async listJourneys(): Promise<JourneyView[]> {
    const rows = await this.deps.dataSource.manager.find(Journey, { order: { id: 'ASC' } });
    return rows.map(viewOf);
  }

  async getJourney(
    id: number,
  ): Promise<
    JourneyResult<
      JourneyView & { versions: { version: number; publishedAt: string | null; createdAt: string; definition: JourneyDefinition }[] }
    >
  > {
    const m = this.deps.dataSource.manager;
    const journey = await m.findOneBy(Journey, { id });
    if (!journey) return { ok: false, reason: 'not_found' };
    const versions = await m.find(JourneyVersion, { where: { journeyId: id }, order: { version: 'DESC' } });
    return {
      ok: true,
      value: {
        ...viewOf(journey),
        versions: versions.map((v) => ({
          version: v.version,
          publishedAt: v.publishedAt?.toISOString() ?? null,
          createdAt: v.createdAt.toISOString(),
          definition: JSON.parse(v.definition) as JourneyDefinition,
        })),
      },
    };
  }

  /** From a template (with the journeys it hands over to, when missing) or from a definition. */
  async createJourney(p: {
    name: string;
    template?: string;
    definition?: unknown;
    actor: AuditActor;
  }): Promise<JourneyResult<{ id: number; version: number; status: JourneyStatus }>> {
    const template = p.template === undefined ? null : JOURNEY_TEMPLATES.find((t) => t.key === p.template);
    if (template === undefined)
      return { ok: false, reason: 'invalid', issues: [{ path: 'template', code: 'invalid_value', message: 'no such template' }] };
    const checked = await this.check(template ? template.definition() : p.definition);
    if (!checked.ok) return checked;
    type Created = JourneyResult<{ id: number; version: number; status: JourneyStatus }>;
    const taken: Created = { ok: false, reason: 'conflict', code: 'name_taken', message: 'a journey has this name' };
    return this.deps.transactor.runRetrying(
      async (m): Promise<Created> => {
        if (await m.existsBy(Journey, { name: p.name }))
          return { ok: false, reason: 'conflict', code: 'name_taken', message: 'a journey has this name' } as const;
        const id = await this.insertJourney(m, p.name, template?.key ?? null, checked.definition);
        for (const companion of template?.companions ?? []) {
          const other = JOURNEY_TEMPLATES.find((t) => t.key === companion.template);
          if (other && !(await m.existsBy(Journey, { name: companion.name })))
            await this.insertJourney(m, companion.name, other.key, other.definition());
        }
        await this.deps.audit.record({
          manager: m,
          operatorId: p.actor.operatorId,
          ip: p.actor.ip,
          action: 'journey.create',
          targetType: 'journey',
          targetId: id,
          detail: { name: p.name, template: template?.key ?? null },
        });
        return { ok: true, value: { id, version: 1, status: 'draft' } } as const;
      },
      { onDuplicate: () => taken },
    );
  }

  private async insertJourney(m: EntityManager, name: string, template: string | null, definition: JourneyDefinition): Promise<number> {
    const now = this.deps.clock.now();
    const inserted = await m.insert(Journey, {
      name,
      status: 'draft',
      publishedVersion: null,
      latestVersion: 1,
      template,
      lastScheduledSlot: null,
      createdAt: now,
      updatedAt: now,
    });
    const id = insertedId(inserted.identifiers);
    await m.insert(JourneyVersion, {
      journeyId: id,
      version: 1,
      definition: JSON.stringify(definition),
      publishedAt: null,
      createdAt: now,
    });
    return id;
  }

  /** Saves a new draft version; the published one (and every run on it) is untouched. */
  async saveVersion(p: {
    id: number;
    definition: unknown;
    actor: AuditActor;
  }): Promise<JourneyResult<{ id: number; version: number; status: JourneyStatus }>> {
    const checked = await this.check(p.definition);
    if (!checked.ok) return checked;
    return this.deps.transactor.runRetrying(async (m) => {
      const journey = await m.findOne(Journey, { where: { id: p.id }, lock: lockOf(m) });
      if (!journey) return { ok: false, reason: 'not_found' } as const;
      const version = journey.latestVersion + 1;
      const now = this.deps.clock.now();
      await m.insert(JourneyVersion, {
        journeyId: p.id,
        version,
        definition: JSON.stringify(checked.definition),
        publishedAt: null,
        createdAt: now,
      });
      await m.update(Journey, { id: p.id }, { latestVersion: version, updatedAt: now });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'journey.save_version',
        targetType: 'journey',
        targetId: p.id,
        detail: { version },
      });
      return { ok: true, value: { id: p.id, version, status: journey.status } } as const;
    });
  }

  /**
   * Publishes the newest version: new entries take it, runs inside finish on theirs, unless
   * `migrate` maps an older version's nodes onto this one: then that version's waiting runs move
   * (checkRunMigration says which mappings are allowed; a refused one publishes nothing). Journeys
   * its `enter_journey` actions name must exist; one never published yet (a template's companion)
   * is published with it, so the hand-over works as instantiated.
   */
  async publish(p: { id: number; actor: AuditActor; migrate?: RunMigration }): Promise<JourneyResult<PublishedView>> {
    const result = await this.deps.transactor.runRetrying(async (m): Promise<JourneyResult<PublishedView>> => {
      const journey = await m.findOne(Journey, { where: { id: p.id }, lock: lockOf(m) });
      if (!journey) return { ok: false, reason: 'not_found' };
      const definition = await this.deps.definitions.definitionOf(m, journey.id, journey.latestVersion);
      let plan: MigrationPlan | null = null;
      if (p.migrate) {
        const checked = await this.planMigration(m, journey, definition, p.migrate);
        if (!checked.ok) return checked;
        plan = checked.value;
      }
      const targets = definition.nodes.flatMap((n, i) =>
        n.type === 'action'
          ? n.actions.flatMap((a, j) => (a.kind === 'enter_journey' ? [{ name: a.journey, path: `nodes.${i}.actions.${j}.journey` }] : []))
          : [],
      );
      for (const target of targets) {
        const other = await m.findOneBy(Journey, { name: target.name });
        if (!other)
          return {
            ok: false,
            reason: 'invalid',
            issues: [{ path: `definition.${target.path}`, code: 'journey_not_found', message: `no journey "${target.name}"` }],
          };
        if (other.publishedVersion === null && other.id !== journey.id) await this.markPublished(m, other, p.actor);
      }
      await this.markPublished(m, journey, p.actor);
      const value: PublishedView = { id: journey.id, version: journey.latestVersion, status: 'active' };
      if (plan) value.migrated = await this.migrateRuns(m, journey, plan, p.actor);
      return { ok: true, value };
    });
    this.deps.definitions.invalidate();
    return result;
  }

  /** Where runs of older versions wait, per version and node (the page offers a mapping for them on publish). */
  async waitingRuns(id: number): Promise<JourneyResult<{ version: number; nodeId: string; count: number }[]>> {
    const m = this.deps.dataSource.manager;
    if (!(await m.existsBy(Journey, { id }))) return { ok: false, reason: 'not_found' };
    const rows: { version: number | string; node_id: string; n: number | string }[] = await m.query(
      "SELECT version, node_id, COUNT(*) AS n FROM journey_runs WHERE journey_id = ? AND state = 'waiting' GROUP BY version, node_id ORDER BY version, node_id",
      [id],
    );
    return { ok: true, value: rows.map((r) => ({ version: Number(r.version), nodeId: r.node_id, count: Number(r.n) })) };
  }

  /** The mapping checked against both versions and where the old version's runs wait now (read under the journey's lock). */
  private async planMigration(
    m: EntityManager,
    journey: Journey,
    to: JourneyDefinition,
    migrate: RunMigration,
  ): Promise<JourneyResult<MigrationPlan>> {
    const refuse = (message: string): JourneyResult<MigrationPlan> => ({
      ok: false,
      reason: 'invalid',
      issues: [{ path: 'migrate.fromVersion', code: 'journey_migration_version', message }],
    });
    if (migrate.fromVersion >= journey.latestVersion)
      return refuse(`runs move from an older version onto version ${journey.latestVersion}, not from version ${migrate.fromVersion}`);
    const [exists]: { n: number | string }[] = await m.query(
      'SELECT COUNT(*) AS n FROM journey_versions WHERE journey_id = ? AND version = ?',
      [journey.id, migrate.fromVersion],
    );
    if (Number(exists?.n ?? 0) === 0) return refuse(`the journey has no version ${migrate.fromVersion}`);
    const from = await this.deps.definitions.definitionOf(m, journey.id, migrate.fromVersion);
    const rows: { node_id: string; n: number | string }[] = await m.query(
      "SELECT node_id, COUNT(*) AS n FROM journey_runs WHERE journey_id = ? AND version = ? AND state = 'waiting' GROUP BY node_id",
      [journey.id, migrate.fromVersion],
    );
    const waiting = rows.map((r) => ({ nodeId: r.node_id, count: Number(r.n) }));
    const issues = checkRunMigration({
      from,
      fromVersion: migrate.fromVersion,
      to,
      toVersion: journey.latestVersion,
      mapping: migrate.nodes,
      waiting,
    });
    if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
    return { ok: true, value: { fromVersion: migrate.fromVersion, nodes: migrate.nodes, waiting } };
  }

  /**
   * Moves the old version's waiting runs, per mapped node: their rows are locked (MySQL; SQLite
   * has one writer), their open step closes as `migrated` and a step opens at the new node, then
   * one UPDATE moves them all. That UPDATE is guarded like the engine's moves: it matches only
   * runs still waiting at the old (version, node), so a run the engine moved meanwhile is left on
   * its version, and it bumps the step counter, so an engine batch that read a run before the move
   * fails its own guard and rolls back instead of moving the run a second time. Runs keep the time
   * they are due.
   */
  private async migrateRuns(m: EntityManager, journey: Journey, plan: MigrationPlan, actor: AuditActor): Promise<number> {
    const now = toSqlDate(this.deps.clock.now());
    const toVersion = journey.latestVersion;
    const guard = "journey_id = ? AND version = ? AND node_id = ? AND state = 'waiting'";
    let moved = 0;
    for (const { nodeId: oldId } of plan.waiting) {
      const newId = plan.nodes[oldId];
      const params = [journey.id, plan.fromVersion, oldId];
      const [locked]: { n: number | string }[] = await m.query(
        `SELECT COUNT(*) AS n FROM journey_runs WHERE ${guard}${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
        params,
      );
      if (Number(locked?.n ?? 0) === 0) continue;
      await m.query(
        `UPDATE journey_steps SET left_at = ?, outcome = 'migrated' WHERE left_at IS NULL AND journey_id = ? AND run_id IN (SELECT id FROM journey_runs WHERE ${guard})`,
        [now, journey.id, ...params],
      );
      await m.query(
        'INSERT INTO journey_steps (journey_id, run_id, seq, node_id, entered_at, left_at, outcome) ' +
          `SELECT journey_id, id, step_seq, ?, ?, NULL, NULL FROM journey_runs WHERE ${guard}`,
        [newId, now, ...params],
      );
      moved += await executeCountingRows(m, `UPDATE journey_runs SET version = ?, node_id = ?, step_seq = step_seq + 1 WHERE ${guard}`, [
        toVersion,
        newId,
        ...params,
      ]);
    }
    await this.deps.audit.record({
      manager: m,
      operatorId: actor.operatorId,
      ip: actor.ip,
      action: 'journey.migrate_runs',
      targetType: 'journey',
      targetId: journey.id,
      detail: {
        fromVersion: plan.fromVersion,
        toVersion,
        nodes: Object.entries(plan.nodes).map(([from, to]) => `${from}→${to}`),
        moved,
      },
    });
    return moved;
  }

  private async markPublished(m: EntityManager, journey: Journey, actor: AuditActor): Promise<void> {
    const now = this.deps.clock.now();
    await m.update(JourneyVersion, { journeyId: journey.id, version: journey.latestVersion }, { publishedAt: now });
    await m.update(Journey, { id: journey.id }, { publishedVersion: journey.latestVersion, status: 'active', updatedAt: now });
    await this.deps.audit.record({
      manager: m,
      operatorId: actor.operatorId,
      ip: actor.ip,
      action: 'journey.publish',
      targetType: 'journey',
      targetId: journey.id,
      detail: { version: journey.latestVersion },
    });
  }

  /** Pause: entries are refused and runs stand still. Resume: they move on from where they stood. */
  async setPaused(p: {
    id: number;
    paused: boolean;
    actor: AuditActor;
  }): Promise<JourneyResult<{ id: number; version: number | null; status: JourneyStatus }>> {
    const result = await this.deps.transactor.runRetrying(
      async (m): Promise<JourneyResult<{ id: number; version: number | null; status: JourneyStatus }>> => {
        const journey = await m.findOne(Journey, { where: { id: p.id }, lock: lockOf(m) });
        if (!journey) return { ok: false, reason: 'not_found' };
        const from: JourneyStatus = p.paused ? 'active' : 'paused';
        if (journey.status !== from)
          return { ok: false, reason: 'conflict', code: 'journey_not_active', message: `the journey is ${journey.status}, not ${from}` };
        const status: JourneyStatus = p.paused ? 'paused' : 'active';
        await m.update(Journey, { id: p.id }, { status, updatedAt: this.deps.clock.now() });
        await this.deps.audit.record({
          manager: m,
          operatorId: p.actor.operatorId,
          ip: p.actor.ip,
          action: p.paused ? 'journey.pause' : 'journey.resume',
          targetType: 'journey',
          targetId: p.id,
        });
        return { ok: true, value: { id: p.id, version: journey.publishedVersion, status } };
      },
    );
    this.deps.definitions.invalidate();
    return result;
  }

  /** An operator enrolls contacts: each one enters unless the re-entry policy keeps it out. */
  async enroll(p: { id: number; contactIds: number[]; actor: AuditActor }): Promise<JourneyResult<{ enrolled: number; skipped: number }>> {
    const ids = [...new Set(p.contactIds)].slice(0, MAX_ENROLL);
    return this.deps.transactor.runRetrying(async (m): Promise<JourneyResult<{ enrolled: number; skipped: number }>> => {
      const journey = await m.findOneBy(Journey, { id: p.id });
      if (!journey) return { ok: false, reason: 'not_found' };
      if (journey.status !== 'active' || journey.publishedVersion === null)
        return {
          ok: false,
          reason: 'conflict',
          code: 'journey_not_active',
          message: `the journey is ${journey.status}: it takes no entries`,
        };
      const live: { id: number }[] = ids.length
        ? await m.query(`SELECT id FROM contacts WHERE merged_into_id IS NULL AND id IN (${placeholders(ids.length)})`, ids)
        : [];
      const published: PublishedJourney = {
        id: journey.id,
        name: journey.name,
        version: journey.publishedVersion,
        definition: await this.deps.definitions.definitionOf(m, journey.id, journey.publishedVersion),
      };
      const batch = crypto.randomBytes(6).toString('base64url');
      const enrolled = await enterRuns({
        manager: m,
        journey: published,
        entries: live.map((r) => ({ contactId: Number(r.id), cause: `enroll:${batch}` })),
        now: this.deps.clock.now(),
      });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'journey.enroll',
        targetType: 'journey',
        targetId: p.id,
        detail: { enrolled, asked: p.contactIds.length },
      });
      return { ok: true, value: { enrolled, skipped: p.contactIds.length - enrolled } };
    });
  }

  /**
   * Contacts the daily job just tagged 沉默用户 enter the re-activation journey: the newest active
   * journey made from the `reactivation` template (the operator picks which by publishing or
   * pausing). None active: nobody enters, and the tag stands on its own. Returns how many entered.
   */
  async enrollSilent(contactIds: number[]): Promise<number> {
    const [journey] = await this.deps.dataSource.manager.find(Journey, {
      where: { template: 'reactivation', status: 'active' },
      order: { id: 'DESC' },
      take: 1,
    });
    if (!journey || contactIds.length === 0) return 0;
    let entered = 0;
    for (let i = 0; i < contactIds.length; i += MAX_ENROLL) {
      const result = await this.enroll({ id: journey.id, contactIds: contactIds.slice(i, i + MAX_ENROLL), actor: SYSTEM_ACTOR });
      if (result.ok) entered += result.value.enrolled;
    }
    return entered;
  }

  async stats(id: number): Promise<JourneyResult<JourneyStats>> {
    const m = this.deps.dataSource.manager;
    const journey = await m.findOneBy(Journey, { id });
    if (!journey) return { ok: false, reason: 'not_found' };
    const definition = await this.deps.definitions.definitionOf(m, id, journey.publishedVersion ?? journey.latestVersion);
    const steps: { node_id: string; entered: number | string; completed: number | string }[] = await m.query(
      'SELECT node_id, COUNT(*) AS entered, SUM(CASE WHEN left_at IS NULL THEN 0 ELSE 1 END) AS completed FROM journey_steps WHERE journey_id = ? GROUP BY node_id',
      [id],
    );
    const waiting: { node_id: string; n: number | string }[] = await m.query(
      "SELECT node_id, COUNT(*) AS n FROM journey_runs WHERE journey_id = ? AND state = 'waiting' GROUP BY node_id",
      [id],
    );
    const [runs]: Record<string, number | string | null>[] = await m.query(
      "SELECT COUNT(*) AS entered, SUM(CASE WHEN converted_at IS NULL THEN 0 ELSE 1 END) AS converted, SUM(CASE WHEN state = 'exited' THEN 1 ELSE 0 END) AS exited FROM journey_runs WHERE journey_id = ?",
      [id],
    );
    const [sent]: { n: number | string }[] = await m.query(
      "SELECT COUNT(*) AS n FROM outbox_messages WHERE source_type = 'journey' AND source_id = ? AND state = 'sent'",
      [String(id)],
    );
    const [delivered]: { n: number | string }[] = await m.query(
      "SELECT COUNT(*) AS n FROM interactions WHERE ref_type = 'journey' AND ref_id = ? AND type = 'message_delivered'",
      [String(id)],
    );
    const [opened]: { n: number | string }[] = await m.query('SELECT COUNT(*) AS n FROM journey_opens WHERE journey_id = ?', [id]);
    const messages: { node_id: string; sent: number | string; delivered: number | string }[] = await m.query(
      "SELECT node_id, SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END) AS sent, " +
        "SUM(CASE WHEN delivery_status = 'delivered' THEN 1 ELSE 0 END) AS delivered " +
        "FROM outbox_messages WHERE source_type = 'journey' AND source_id = ? GROUP BY node_id",
      [String(id)],
    );
    const opens: { node_id: string; n: number | string }[] = await m.query(
      'SELECT node_id, COUNT(*) AS n FROM journey_opens WHERE journey_id = ? GROUP BY node_id',
      [id],
    );
    // A run's node_id is where it is, so for an ended run where it converted or exited.
    const endings: { node_id: string; converted: number | string; exited: number | string }[] = await m.query(
      "SELECT node_id, SUM(CASE WHEN converted_at IS NULL THEN 0 ELSE 1 END) AS converted, SUM(CASE WHEN state = 'exited' THEN 1 ELSE 0 END) AS exited " +
        'FROM journey_runs WHERE journey_id = ? GROUP BY node_id',
      [id],
    );
    const stepsOf = new Map(steps.map((s) => [s.node_id, s]));
    const waitingOf = new Map(waiting.map((w) => [w.node_id, Number(w.n)]));
    const messagesOf = new Map(messages.map((row) => [row.node_id, row]));
    const opensOf = new Map(opens.map((row) => [row.node_id, Number(row.n)]));
    const endingsOf = new Map(endings.map((row) => [row.node_id, row]));
    // Nodes of older versions that runs still pass are listed after the current ones.
    const known = new Set(definition.nodes.map((n) => n.id));
    const extra = steps.filter((s) => !known.has(s.node_id)).map((s) => ({ id: s.node_id, type: 'removed' }));
    return {
      ok: true,
      value: {
        nodes: [...definition.nodes.map((n) => ({ id: n.id, type: n.type })), ...extra].map((n) => ({
          id: n.id,
          type: n.type,
          entered: Number(stepsOf.get(n.id)?.entered ?? 0),
          waiting: waitingOf.get(n.id) ?? 0,
          completed: Number(stepsOf.get(n.id)?.completed ?? 0),
          sent: Number(messagesOf.get(n.id)?.sent ?? 0),
          delivered: Number(messagesOf.get(n.id)?.delivered ?? 0),
          opened: opensOf.get(n.id) ?? 0,
          converted: Number(endingsOf.get(n.id)?.converted ?? 0),
          exited: Number(endingsOf.get(n.id)?.exited ?? 0),
        })),
        totals: {
          entered: Number(runs?.entered ?? 0),
          sent: Number(sent?.n ?? 0),
          delivered: Number(delivered?.n ?? 0),
          opened: Number(opened?.n ?? 0),
          converted: Number(runs?.converted ?? 0),
          exited: Number(runs?.exited ?? 0),
        },
      },
    };
  }

  /**
   * A definition as saved: its shape and graph (validateDefinition), then what only the database
   * knows: a send node's `url` that is a content centre link (the editor's material picker puts
   * one there) must name a live material, or every contact would be sent to a 404.
   */
  private async check(
    definition: unknown,
  ): Promise<{ ok: true; definition: JourneyDefinition } | { ok: false; reason: 'invalid'; issues: DefinitionIssue[] }> {
    const checked = validateDefinition(definition);
    const issues: DefinitionIssue[] = checked.ok ? [] : checked.issues;
    if (checked.ok)
      for (const [i, node] of checked.definition.nodes.entries()) {
        const code = node.type === 'send' && node.url ? materialCodeOf(node.url, this.deps.publicBaseUrl) : null;
        if (code !== null && !(await this.deps.materials.isLive(code)))
          issues.push({
            path: `nodes.${i}.url`,
            code: 'journey_material_unknown',
            message: `send node "${node.id}": no live material "${code}" in the content centre`,
            params: { node: node.id },
          });
      }
    if (!checked.ok || issues.length > 0)
      return { ok: false, reason: 'invalid', issues: issues.map((i) => ({ ...i, path: `definition.${i.path}` })) };
    return checked;
  }

  /**
   * A tracked link was followed (GET /r/:code): the click goes on the timeline as `link_clicked`
   * (direction in, ref the journey, detail runId/nodeId/outboxId/target), the message's first open
   * is kept per (run, node), the run waiting for it wakes now, and the contact's preferred channel
   * becomes the message's. Returns the target, or null for a forged or expired code.
   */
  async recordClick(code: string): Promise<string | null> {
    const signer = await this.deps.links();
    const now = this.deps.clock.now();
    const link = signer.verify(code, now.getTime());
    if (!link) return null;
    await this.deps.transactor.runRetrying(async (m) => {
      const [outbox]: { id: number }[] = await m.query('SELECT id FROM outbox_messages WHERE dedupe_key = ?', [
        `journey:${link.runId}:${link.nodeId}`,
      ]);
      const nowSql = toSqlDate(now);
      const clickId = crypto.randomBytes(8).toString('hex');
      await this.deps.interactions.recordInteraction(m, {
        type: 'link_clicked',
        channel:
          link.channel === 'wecom_group_msg' ? 'wecom' : link.channel === 'mp_subscribe' ? 'mp' : link.channel === 'sms' ? 'system' : 'oa',
        direction: 'in',
        occurredAt: now,
        detail: {
          runId: link.runId,
          nodeId: link.nodeId,
          outboxId: outbox ? Number(outbox.id) : null,
          target: link.target,
          messageChannel: link.channel,
        },
        identity: null,
        contactId: link.contactId,
        dedupeKey: `link:${link.runId}:${link.nodeId}:${clickId}`,
        ref: { type: 'journey', id: String(link.journeyId) },
      });
      const insertOpen =
        m.connection.options.type === 'better-sqlite3'
          ? 'INSERT INTO journey_opens (journey_id, run_id, node_id, contact_id, channel, opened_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, node_id) DO NOTHING'
          : 'INSERT INTO journey_opens (journey_id, run_id, node_id, contact_id, channel, opened_at) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id';
      await m.query(insertOpen, [link.journeyId, link.runId, link.nodeId, link.contactId, link.channel, nowSql]);
      await m.query("UPDATE journey_runs SET next_due_at = ? WHERE id = ? AND state = 'waiting' AND wait_for_node = ?", [
        nowSql,
        link.runId,
        link.nodeId,
      ]);
      await upsertPreferredChannel(m, link.contactId, link.channel, now);
    });
    return link.target;
  }

  /**
   * The entry reaction's write for one interaction: enter the active journeys it starts (interaction
   * matchers, `segment_entered` of their segment) and end as converted the contact's runs whose goal
   * it meets. Causes are the interaction's id, so a replayed work row enters nobody twice.
   */
  async reactToInteraction(
    m: EntityManager,
    p: { contactId: number; interactionId: number; type: string; detail: Record<string, unknown>; direction: 'in' | 'out' },
  ): Promise<void> {
    const journeys = await this.deps.definitions.activeJourneys(this.deps.clock.now().getTime());
    const now = this.deps.clock.now();
    for (const journey of journeys) {
      const entry = journey.definition.entry;
      const starts =
        (entry.kind === 'interaction' && p.direction === 'in' && matches(entry.matcher, p.type, p.detail)) ||
        (entry.kind === 'segment_entered' && p.type === 'segment_entered' && Number(p.detail.segmentId) === entry.segmentId);
      if (starts) await enterRuns({ manager: m, journey, entries: [{ contactId: p.contactId, cause: `i:${p.interactionId}` }], now });
    }
    if (p.direction !== 'in') return;
    const goalJourneys = journeys.filter((j) => j.definition.goal && matches(j.definition.goal, p.type, p.detail)).map((j) => j.id);
    if (goalJourneys.length === 0) return;
    const runs: { id: number }[] = await m.query(
      `SELECT id FROM journey_runs WHERE contact_id = ? AND state IN ('active', 'waiting') AND journey_id IN (${placeholders(goalJourneys.length)})`,
      [p.contactId, ...goalJourneys],
    );
    if (runs.length === 0) return;
    const ids = runs.map((r) => Number(r.id));
    const nowSql = toSqlDate(now);
    await m.query(
      `UPDATE journey_steps SET left_at = ?, outcome = 'converted' WHERE left_at IS NULL AND run_id IN (${placeholders(ids.length)})`,
      [nowSql, ...ids],
    );
    await m.query(
      "UPDATE journey_runs SET state = 'completed', outcome = 'converted', converted_at = ?, ended_at = ?, next_due_at = NULL, " +
        `guard_key = CASE WHEN guard_key = 'open' THEN NULL ELSE guard_key END WHERE state IN ('active', 'waiting') AND id IN (${placeholders(ids.length)})`,
      [nowSql, nowSql, ...ids],
    );
  }

  /** Whether any active journey starts on or converts with interactions (an empty list costs the reaction nothing). */
  async wantsInteraction(type: string): Promise<boolean> {
    const journeys = await this.deps.definitions.activeJourneys(this.deps.clock.now().getTime());
    return journeys.some(
      (j) =>
        (j.definition.entry.kind === 'interaction' && j.definition.entry.matcher.type === type) ||
        j.definition.goal?.type === type ||
        (type === 'segment_entered' && j.definition.entry.kind === 'segment_entered'),
    );
  }

  /**
   * Scheduled entries: once a day at the entry's time (business time zone), every member of its
   * segment, walked through the segments port in pages. After downtime the missed day's slot runs
   * at the next fire (the latest slot only: a week down enters the segment once, not seven times).
   */
  async runScheduledEntries(): Promise<number> {
    const now = this.deps.clock.now();
    const offset = getUtcOffsetMinutes(this.deps.timezone, now) * 60_000;
    const local = new Date(now.getTime() + offset);
    const today = local.toISOString().slice(0, 10);
    const clock = local.toISOString().slice(11, 16);
    let entered = 0;
    for (const journey of await this.deps.definitions.activeJourneys(now.getTime())) {
      const entry = journey.definition.entry;
      if (entry.kind !== 'schedule' || clock < entry.time) continue;
      const [row]: { last_scheduled_slot: string | null }[] = await this.deps.dataSource.query(
        'SELECT last_scheduled_slot FROM journeys WHERE id = ?',
        [journey.id],
      );
      if (row?.last_scheduled_slot === today) continue;
      let after = 0;
      for (;;) {
        const page = await this.deps.segments.listMembers(entry.segmentId, after, 1_000);
        if (page.length === 0) break;
        entered += await this.deps.transactor.run((m) =>
          enterRuns({ manager: m, journey, entries: page.map((contactId) => ({ contactId, cause: `schedule:${today}` })), now }),
        );
        after = page[page.length - 1];
      }
      await this.deps.dataSource.query('UPDATE journeys SET last_scheduled_slot = ? WHERE id = ?', [today, journey.id]);
    }
    return entered;
  }
}

function matches(matcher: InteractionMatcher, type: string, detail: Record<string, unknown>): boolean {
  const rule = Object.assign(new TagRule(), {
    enabled: true,
    interactionType: matcher.type,
    matchKind: matcher.matchKind,
    matchValue: matcher.matchValue ?? null,
  });
  return matchRule(rule, { type, detail: detail as Parameters<typeof matchRule>[1]['detail'] });
}

function lockOf(m: EntityManager): { mode: 'pessimistic_write' } | undefined {
  return m.connection.options.type === 'better-sqlite3' ? undefined : { mode: 'pessimistic_write' };
}

function viewOf(j: Journey): JourneyView {
  return {
    id: j.id,
    name: j.name,
    status: j.status,
    template: j.template,
    publishedVersion: j.publishedVersion,
    latestVersion: j.latestVersion,
    createdAt: j.createdAt.toISOString(),
    updatedAt: j.updatedAt.toISOString(),
  };
}
