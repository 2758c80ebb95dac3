import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A follower's customer-service window on an Official Account (server/wechat/custom-message.ts):
 * opened, or opened again, by their last interaction of the kinds that open it, and the messages
 * sent in it since. One row per (contact, account), upserted by the window reaction for each such
 * interaction and counted up by the oa_custom driver for each accepted send: nothing per broadcast.
 */
@Entity('oa_custom_windows')
export class OaCustomWindow {
  @PrimaryColumn({ type: 'int' })
  contactId: number;

  /** The Official Account's appid. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  appId: string;

  /** When the interaction that opened the window happened (its CreateTime); the window lasts 48 hours from it. */
  @Column({ type: 'datetime', precision: 3 })
  openedAt: Date;

  /** Messages the platform accepted in this window; a window opened again starts at 0. */
  @Column({ type: 'int', default: 0 })
  sentCount: number;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
