import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The first open (tracked-link click) of a journey message, per (run, send node): what "opened"
 * conditions and waits read. Every click is an interaction on the timeline too; this is the
 * journey's own index of them.
 */
@Entity('journey_opens')
@Index('UQ_journey_opens_run_node', ['runId', 'nodeId'], { unique: true })
@Index('IDX_journey_opens_journey_node', ['journeyId', 'nodeId'])
export class JourneyOpen {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  journeyId: number;

  @Column({ type: 'int' })
  runId: number;

  @Column({ type: 'varchar', length: 64 })
  nodeId: string;

  @Column({ type: 'int' })
  contactId: number;

  /** The channel of the message that was opened (`oa_template`, `sms` ...). */
  @Column({ type: 'varchar', length: 24 })
  channel: string;

  @Column({ type: 'datetime', precision: 3 })
  openedAt: Date;
}
