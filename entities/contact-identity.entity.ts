import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const IDENTITY_KINDS = ['oa_openid', 'mp_openid', 'unionid', 'external_userid', 'phone'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/**
 * One way to recognise a contact. openids are per app, external_userid per corp, unionid per
 * open-platform account, so `appId` scopes the value ('' where the value is global, e.g. phone).
 */
@Entity('contact_identities')
@Index(['kind', 'appId', 'value'], { unique: true })
export class ContactIdentity {
  @PrimaryGeneratedColumn()
  id: number;

  @Index()
  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 24 })
  kind: IdentityKind;

  @Column({ type: 'varchar', length: 64, default: '' })
  appId: string;

  @Column({ type: 'varchar', length: 128 })
  value: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
