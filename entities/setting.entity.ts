import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A named value the running application keeps across restarts, such as how far the sandbox's
 * clock was skipped ahead (`sandbox.clock_offset_ms`). Not configuration: that comes from the
 * environment and is validated once at start-up.
 */
@Entity('settings')
export class Setting {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  value: string;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
