import type { MigrationInterface } from 'typeorm';
import { InitSqlite1795436218746 } from './1795436218746-init';

/** In order. scripts/generate-migration.ts writes new files; add each here. */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [InitSqlite1795436218746];
