import { z } from 'zod';
import type { DataSource, EntityManager } from 'typeorm';
import { Setting } from '../../../entities/setting.entity';
import type { Clock } from '../../adapters/clock';

export const DECAY_MODES = ['none', 'half_life', 'idle_weekly'] as const;
export type DecayMode = (typeof DECAY_MODES)[number];

/**
 * What operators tune about scoring and the lifecycle (the 评分规则 screen), kept in one `settings`
 * row as JSON: a handful of numbers an operator changes at runtime, not deployment configuration.
 */
export const scoringSettingsSchema = z
  .object({
    /** Past this score a contact is a marketing-qualified lead: assigned to sales, the rep notified. 0 turns it off. */
    mqlThreshold: z.number().int().min(0).max(1_000_000),
    decay: z
      .object({
        mode: z.enum(DECAY_MODES),
        /** half_life: a score halves in this many days (each day loses its share, at least 1 point). */
        halfLifeDays: z.number().int().min(1).max(3650),
        /** idle_weekly: a contact with no inbound interaction for 7 days loses this many points each week. */
        pointsPerIdleWeek: z.number().int().min(1).max(100_000),
      })
      .strict(),
    /** Days without an inbound interaction before a contact is tagged 沉默用户. */
    silentDays: z.number().int().min(1).max(3650),
  })
  .strict();
export type ScoringSettings = z.infer<typeof scoringSettingsSchema>;

export const DEFAULT_SCORING_SETTINGS: ScoringSettings = {
  mqlThreshold: 100,
  decay: { mode: 'none', halfLifeDays: 30, pointsPerIdleWeek: 5 },
  silentDays: 30,
};

const SETTING_NAME = 'scoring.settings';

/** Reads and writes the scoring settings row; a missing or unreadable row reads as the defaults. */
export class ScoringSettingsStore {
  constructor(private readonly deps: { dataSource: DataSource; clock: Clock }) {}

  async readSettings(manager: EntityManager = this.deps.dataSource.manager): Promise<ScoringSettings> {
    const row = await manager.findOneBy(Setting, { name: SETTING_NAME });
    if (!row) return DEFAULT_SCORING_SETTINGS;
    try {
      const parsed = scoringSettingsSchema.safeParse({ ...DEFAULT_SCORING_SETTINGS, ...(JSON.parse(row.value) as object) });
      return parsed.success ? parsed.data : DEFAULT_SCORING_SETTINGS;
    } catch {
      // Deliberate: a row edited by hand into bad JSON reads as the defaults rather than stopping scoring.
      return DEFAULT_SCORING_SETTINGS;
    }
  }

  /** Inside the caller's transaction (with its audit row). */
  async writeSettings(manager: EntityManager, settings: ScoringSettings): Promise<void> {
    const value = JSON.stringify(scoringSettingsSchema.parse(settings));
    await manager.upsert(Setting, { name: SETTING_NAME, value, updatedAt: this.deps.clock.now() }, ['name']);
  }
}
