import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type InboxSource = 'oa' | 'wecom';
/** A row being worked on is `pending` with a live lease (lease_holder, lease_until). */
export type InboxStatus = 'pending' | 'done' | 'failed';

/**
 * Every callback, stored (decrypted) before it is acknowledged. The work that follows the reply
 * (user-info fetch, tags, score, syncs) runs from here, so a crash after the reply loses nothing.
 */
@Entity('callback_inbox')
@Index(['status', 'nextAttemptAt'])
export class CallbackInbox {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 16 })
  source: InboxSource;

  /** Also the interaction's dedupe key: the row finds its interaction by it. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  /** The decrypted XML. MySQL migration makes this MEDIUMTEXT (bodies up to 1 MiB). */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: InboxStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'datetime', precision: 3 })
  nextAttemptAt: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseHolder: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  lastError: string | null;

  @Column({ type: 'datetime', precision: 3 })
  receivedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  processedAt: Date | null;
}
