import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { FilterNode } from '../web/shared/segment-filter';

/**
 * A saved segment: a named filter (web/shared/segment-filter.ts) whose members are kept in
 * segment_members, so its count is read, not recomputed (server/modules/segments).
 */
@Entity('segments')
export class Segment {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_segments_name', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** JSON on MySQL (MariaDB: LONGTEXT checked by json_valid). */
  @Column({ type: 'json' })
  filter: FilterNode;

  /** Members when last counted (kept with every membership change). */
  @Column({ type: 'int', default: 0 })
  count: number;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  countedAt: Date | null;

  /** The operator who saved it; null when made by the system. */
  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
