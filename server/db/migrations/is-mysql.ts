import type { QueryRunner } from 'typeorm';

/** True on MySQL and MariaDB (TypeORM's `mysql` and `mariadb` driver types), false on SQLite. */
export function isMysqlRunner(queryRunner: QueryRunner): boolean {
  const type = queryRunner.connection.driver.options.type;
  return type === 'mysql' || type === 'mariadb';
}
