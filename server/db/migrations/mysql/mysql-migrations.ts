import type { MigrationInterface } from 'typeorm';
import { InitMysql1795436218746 } from './1795436218746-init';

/** In order. scripts/generate-migration.ts writes new files; add each here. */
export const MYSQL_MIGRATIONS: (new () => MigrationInterface)[] = [InitMysql1795436218746];
