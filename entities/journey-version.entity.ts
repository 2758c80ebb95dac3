import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One version of a journey's definition (JSON, server/modules/journeys/journey-definition.ts).
 * Never changed once written: editing saves a new version, and a run finishes on the version it
 * entered on.
 */
@Entity('journey_versions')
@Index('UQ_journey_versions_journey_version', ['journeyId', 'version'], { unique: true })
export class JourneyVersion {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  journeyId: number;

  @Column({ type: 'int' })
  version: number;

  /** The definition as validated on save (JSON text). */
  @Column({ type: 'text' })
  definition: string;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  publishedAt: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
