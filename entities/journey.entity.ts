import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `draft`: never published, nobody can enter; `active`: its published version takes entries and
 * its runs advance; `paused`: entries are refused and its runs stand still where they are (their
 * due times pass, and they move on at resume); `archived`: kept for its figures.
 */
export const JOURNEY_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type JourneyStatus = (typeof JOURNEY_STATUSES)[number];

/**
 * A journey: a name, a status and the version new entries take. Its definitions are the
 * immutable rows of journey_versions; a run keeps the version it entered on to its end.
 */
@Entity('journeys')
@Index('UQ_journeys_name', ['name'], { unique: true })
export class Journey {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 16, default: 'draft' })
  status: JourneyStatus;

  /** The version new entries take; null until the first publish. */
  @Column({ type: 'int', nullable: true })
  publishedVersion: number | null;

  /** The newest version saved (published or a draft). */
  @Column({ type: 'int', default: 1 })
  latestVersion: number;

  /** The template it was made from (`reactivation`), or null. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  template: string | null;

  /** The last slot a scheduled entry ran for (`2026-12-07`), so a slot enters its segment once. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  lastScheduledSlot: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
