import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * access_token / jsapi_ticket shared by every instance. The lease columns elect the single
 * refresher, so instances never invalidate each other's token.
 */
@Entity('platform_tokens')
export class PlatformToken {
  /** e.g. `oa:<appid>:access_token`, `wecom:<corpid>:<agent>:access_token`. */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  key: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  value: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseHolder: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
