import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * sending → sent | already_sent (41051) | failed | unknown (no answer: never sent again) |
 * expired (the 20 s of the WelcomeCode were over before we could send).
 */
export const CHANNEL_WELCOME_STATES = ['sending', 'sent', 'already_sent', 'failed', 'unknown', 'expired'] as const;
export type ChannelWelcomeState = (typeof CHANNEL_WELCOME_STATES)[number];

/**
 * A WeCom welcome message (externalcontact/send_welcome_msg), one row per WelcomeCode, written
 * as `sending` before the request leaves: the unique code is the send's key, so a replayed
 * reaction never sends it twice.
 */
@Entity('channel_welcomes')
@Index('UQ_channel_welcomes_code', ['welcomeCode'], { unique: true })
export class ChannelWelcome {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 191 })
  welcomeCode: string;

  @Column({ type: 'int' })
  channelId: number;

  @Column({ type: 'int' })
  interactionId: number;

  @Column({ type: 'varchar', length: 16 })
  state: ChannelWelcomeState;

  @Column({ type: 'int', nullable: true })
  errcode: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
