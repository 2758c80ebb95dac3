import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditDetail = Record<string, string | number | boolean | null | string[] | number[]>;

/** Every change an operator makes, and every login attempt. */
@Entity('audit_log')
export class AuditLog {
  @PrimaryGeneratedColumn()
  id: number;

  @Index()
  @Column({ type: 'int', nullable: true })
  operatorId: number | null;

  /** e.g. `login`, `login_failed`, `tag.create`, `tag_rule.update`. */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  targetType: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  targetId: string | null;

  @Column({ type: 'simple-json' })
  detail: AuditDetail;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Index()
  @Column({ type: 'datetime', precision: 3 })
  at: Date;
}
