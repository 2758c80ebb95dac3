import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const OPERATOR_ROLES = ['admin', 'operator', 'sales'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

@Entity('operators')
export class Operator {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64, unique: true })
  username: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  displayName: string | null;

  /** scrypt: `scrypt$N$r$p$salt$hash` (base64). */
  @Column({ type: 'varchar', length: 255 })
  passwordHash: string;

  @Column({ type: 'varchar', length: 16 })
  role: OperatorRole;

  /** For sales reps: their WeCom userid, which scopes the contacts they may see. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  wecomUserId: string | null;

  /**
   * The hard lock's counter and deadline, no longer read or written (login_throttles replaced
   * them; since the release after that, new operators get the column default). Kept, not
   * dropped: during a rolling deploy the previous release still names them in its INSERTs. The
   * release after this one can drop both.
   */
  @Column({ type: 'int', default: 0 })
  failedLogins: number;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  lockedUntil: Date | null;

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  /**
   * Set on a generated password (first run, `npm run admin -- reset-password`): until the
   * operator chooses their own, their session may only change it (and see who they are, log out).
   */
  @Column({ type: 'boolean', default: false })
  mustChangePassword: boolean;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
