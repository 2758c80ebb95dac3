import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** draft → scheduled → running → done; paused and resumed while running; cancelled at any point before done. */
export const BROADCAST_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'done', 'cancelled'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

/**
 * A one-off or scheduled push to a segment. Expanded into outbox rows (`broadcast:<id>:<contact>`)
 * in keyset batches; `expandedThrough` is the last contact id written, committed with its batch,
 * so an expansion that crashed resumes after it and the dedupe keys absorb any overlap.
 */
@Entity('broadcasts')
@Index('IDX_broadcasts_status_send_at', ['status', 'sendAt'])
export class Broadcast {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The audience's segment (segments module); null: every live contact. */
  @Column({ type: 'int', nullable: true })
  segmentId: number | null;

  @Column({ type: 'varchar', length: 24 })
  channel: string;

  /** The message as the channel's API takes it without the recipient (outbox payload). JSON. */
  @Column({ type: 'text' })
  message: string;

  @Column({ type: 'datetime', precision: 3 })
  sendAt: Date;

  @Column({ type: 'varchar', length: 16 })
  status: BroadcastStatus;

  /** The status a paused broadcast goes back to. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  pausedFrom: BroadcastStatus | null;

  @Column({ type: 'int', default: 0 })
  expandedThrough: number;

  /** 1 once the whole audience is in the outbox: `total` is final then. */
  @Column({ type: 'int', default: 0 })
  expanded: number;

  @Column({ type: 'int', default: 0 })
  total: number;

  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
