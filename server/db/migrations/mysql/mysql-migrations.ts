import type { MigrationInterface } from 'typeorm';
import { SeedDefaultRules1795436300000 } from '../1795436300000-seed-default-rules';
import { InboxDropsInteractionId1795500000000 } from '../1795500000000-inbox-drops-interaction-id';
import { InboxClaimedRowsStayPending1795500100000 } from '../1795500100000-inbox-claimed-rows-stay-pending';
import { TagRuleNamesUnique1795500200000 } from '../1795500200000-tag-rule-names-unique';
import { DropUnreadIndexes1795500300000 } from '../1795500300000-drop-unread-indexes';
import { FoundationsSchema1795600000000 } from '../1795600000000-foundations-schema';
import { JobCursors1795600010000 } from '../1795600010000-job-cursors';
import { TasksClaimedRowsStayPending1795600300000 } from '../1795600300000-tasks-claimed-rows-stay-pending';
import { InitMysql1795436218746 } from './1795436218746-init';

/** In order. scripts/generate-migration.ts writes new files; add each here. */
export const MYSQL_MIGRATIONS: (new () => MigrationInterface)[] = [InitMysql1795436218746, SeedDefaultRules1795436300000, InboxDropsInteractionId1795500000000, InboxClaimedRowsStayPending1795500100000, TagRuleNamesUnique1795500200000, DropUnreadIndexes1795500300000, FoundationsSchema1795600000000, JobCursors1795600010000, TasksClaimedRowsStayPending1795600300000];
