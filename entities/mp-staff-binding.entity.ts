import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A mini-program user who is an operator's staff identity (the check-in scanner): written when
 * the user enters a one-time binding code an admin issued for that operator. One operator per
 * mini-program user (the key); an operator may have several (a new phone).
 */
@Entity('mp_staff_bindings')
@Index('UQ_mp_staff_bindings_openid', ['appId', 'openid'], { unique: true })
@Index('IDX_mp_staff_bindings_operator', ['operatorId'])
export class MpStaffBinding {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  operatorId: number;

  @Column({ type: 'varchar', length: 64 })
  appId: string;

  @Column({ type: 'varchar', length: 128 })
  openid: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
