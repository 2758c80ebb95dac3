import type { DataSource, EntityManager } from 'typeorm';
import { isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import { type JourneyDefinition, type ReentryPolicy } from './journey-definition';

/** A journey as entries see it: its published version's definition. */
export interface PublishedJourney {
  id: number;
  name: string;
  version: number;
  definition: JourneyDefinition;
}

/** The guard a new run takes under UQ_journey_runs_guard (entities/journey-run.entity.ts). */
export function guardKeyOf(policy: ReentryPolicy): string | null {
  return policy === 'never' ? 'once' : policy === 'after_exit' ? 'open' : null;
}

export interface EnterRunsParams {
  manager: EntityManager;
  journey: PublishedJourney;
  /** Contact and what entered it (`i:<interaction>`, `enroll:<batch>` ...; the contact id is appended). */
  entries: { contactId: number; cause: string }[];
  now: Date;
}

const INSERT_CHUNK = 500;

/**
 * Enters contacts into a journey, in the caller's transaction: one insert-or-skip per 500, the
 * re-entry policy and the cause enforced by the unique keys, never by looking first (two instances
 * entering the same contact at once: one row). Returns how many runs began.
 */
export async function enterRuns(p: EnterRunsParams): Promise<number> {
  const { manager, journey } = p;
  if (p.entries.length === 0) return 0;
  const guard = guardKeyOf(journey.definition.reentry);
  const now = toSqlDate(p.now);
  const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE id = id' : 'ON CONFLICT DO NOTHING';
  let entered = 0;
  for (let start = 0; start < p.entries.length; start += INSERT_CHUNK) {
    const chunk = p.entries.slice(start, start + INSERT_CHUNK);
    const causes = chunk.map((e) => `${e.cause}:${e.contactId}`.slice(0, 96));
    const count = async () => {
      const [row]: { n: number | string }[] = await manager.query(
        `SELECT COUNT(*) AS n FROM journey_runs WHERE journey_id = ? AND cause_key IN (${placeholders(causes.length)})`,
        [journey.id, ...causes],
      );
      return Number(row.n);
    };
    const before = await count();
    await manager.query(
      'INSERT INTO journey_runs (journey_id, version, contact_id, node_id, state, step_seq, next_due_at, guard_key, cause_key, entered_at) ' +
        `VALUES ${chunk.map(() => "(?, ?, ?, ?, 'active', 0, ?, ?, ?, ?)").join(', ')} ${conflict}`,
      chunk.flatMap((e, i) => [journey.id, journey.version, e.contactId, journey.definition.start, now, guard, causes[i], now]),
    );
    entered += (await count()) - before;
  }
  return entered;
}

/**
 * Definitions by (journey, version): versions never change once written, so a process may keep
 * them for good. The active journeys (what entries and goals look at) are read again every few
 * seconds, and at once on this instance after a publish, pause or resume.
 */
export class JourneyDefinitions {
  private readonly versions = new Map<string, JourneyDefinition>();
  private active: { at: number; list: Promise<PublishedJourney[]> } | null = null;

  constructor(private readonly deps: { dataSource: DataSource; ttlMs?: number }) {}

  async definitionOf(manager: EntityManager, journeyId: number, version: number): Promise<JourneyDefinition> {
    const key = `${journeyId}:${version}`;
    const known = this.versions.get(key);
    if (known) return known;
    const [row]: { definition: string }[] = await manager.query(
      'SELECT definition FROM journey_versions WHERE journey_id = ? AND version = ?',
      [journeyId, version],
    );
    if (!row) throw new Error(`journey ${journeyId} has no version ${version}`);
    const definition = JSON.parse(row.definition) as JourneyDefinition;
    this.versions.set(key, definition);
    return definition;
  }

  /** Active journeys with their published definitions (cached for ttlMs, 5 s by default). */
  activeJourneys(nowMs: number = Date.now()): Promise<PublishedJourney[]> {
    if (this.active && nowMs - this.active.at < (this.deps.ttlMs ?? 5_000)) return this.active.list;
    const list = this.loadActive();
    this.active = { at: nowMs, list };
    list.catch(() => (this.active = null));
    return list;
  }

  invalidate(): void {
    this.active = null;
  }

  private async loadActive(): Promise<PublishedJourney[]> {
    const manager = this.deps.dataSource.manager;
    const rows: { id: number; name: string; published_version: number }[] = await manager.query(
      "SELECT id, name, published_version FROM journeys WHERE status = 'active' AND published_version IS NOT NULL",
    );
    return Promise.all(
      rows.map(async (r) => ({
        id: Number(r.id),
        name: r.name,
        version: Number(r.published_version),
        definition: await this.definitionOf(manager, Number(r.id), Number(r.published_version)),
      })),
    );
  }
}

/** An active journey by name, read in the caller's transaction (the enter_journey action). */
export async function findActiveJourneyByName(
  manager: EntityManager,
  definitions: JourneyDefinitions,
  name: string,
): Promise<PublishedJourney | null> {
  const [row]: { id: number; published_version: number | null; status: string }[] = await manager.query(
    'SELECT id, published_version, status FROM journeys WHERE name = ?',
    [name],
  );
  if (!row || row.status !== 'active' || row.published_version === null) return null;
  const id = Number(row.id);
  const version = Number(row.published_version);
  return { id, name, version, definition: await definitions.definitionOf(manager, id, version) };
}
