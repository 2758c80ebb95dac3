import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A one-time code binding a mini-program user to an operator (POST /api/admin/operators/:id/mp-binding-code).
 * Only its SHA-256 is kept; it expires after minutes and is spent by the one bind that uses it.
 */
@Entity('mp_binding_codes')
@Index('UQ_mp_binding_codes_code', ['codeHash'], { unique: true })
@Index('IDX_mp_binding_codes_operator', ['operatorId'])
export class MpBindingCode {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  operatorId: number;

  @Column({ type: 'varchar', length: 64 })
  codeHash: string;

  @Column({ type: 'datetime', precision: 3 })
  expiresAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  usedAt: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
