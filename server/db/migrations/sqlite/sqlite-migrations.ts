import type { MigrationInterface } from 'typeorm';
import { SeedDefaultRules1795436300000 } from '../1795436300000-seed-default-rules';
import { InboxDropsInteractionId1795500000000 } from '../1795500000000-inbox-drops-interaction-id';
import { InboxClaimedRowsStayPending1795500100000 } from '../1795500100000-inbox-claimed-rows-stay-pending';
import { TagRuleNamesUnique1795500200000 } from '../1795500200000-tag-rule-names-unique';
import { DropUnreadIndexes1795500300000 } from '../1795500300000-drop-unread-indexes';
import { LoginThrottles1795600100000 } from '../1795600100000-login-throttles';
import { InitSqlite1795436218746 } from './1795436218746-init';

/** In order. scripts/generate-migration.ts writes new files; add each here. */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [InitSqlite1795436218746, SeedDefaultRules1795436300000, InboxDropsInteractionId1795500000000, InboxClaimedRowsStayPending1795500100000, TagRuleNamesUnique1795500200000, DropUnreadIndexes1795500300000, LoginThrottles1795600100000];
