import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The SMS code last sent to a phone for an event: only its HMAC is kept, with its expiry and the
 * wrong tries made against it (a code dies after a few).
 */
@Entity('event_sms_codes')
export class EventSmsCode {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @PrimaryColumn({ type: 'varchar', length: 20 })
  phone: string;

  @Column({ type: 'varchar', length: 64 })
  codeHash: string;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'datetime', precision: 3 })
  expiresAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  sentAt: Date;
}
