import type { MigrationInterface } from 'typeorm';
import type { DatabaseConfig } from '../../../config/config.schema';
import { SeedDefaultRules1795436300000 } from './1795436300000-seed-default-rules';
import { InboxDropsInteractionId1795500000000 } from './1795500000000-inbox-drops-interaction-id';
import { InboxClaimedRowsStayPending1795500100000 } from './1795500100000-inbox-claimed-rows-stay-pending';
import { TagRuleNamesUnique1795500200000 } from './1795500200000-tag-rule-names-unique';
import { DropUnreadIndexes1795500300000 } from './1795500300000-drop-unread-indexes';
import { FoundationsSchema1795600000000 } from './1795600000000-foundations-schema';
import { JobCursors1795600010000 } from './1795600010000-job-cursors';
import { StatCounters1795600600000 } from './1795600600000-stat-counters';
import { DropContactsStageIndex1795600700000 } from './1795600700000-drop-contacts-stage-index';
import { MenuEventsTyped1795600800000 } from './1795600800000-menu-events-typed';
import { LoginThrottles1795600100000 } from './1795600100000-login-throttles';
import { ContactListIndexes1795600200000 } from './1795600200000-contact-list-indexes';
import { TasksClaimedRowsStayPending1795600300000 } from './1795600300000-tasks-claimed-rows-stay-pending';
import { BrowserSessions1795600400000 } from './1795600400000-browser-sessions';
import { AdminPageIndexes1795600500000 } from './1795600500000-admin-page-indexes';
import { RenameReactionWork1795700000000 } from './1795700000000-rename-reaction-work';
import { CallbackSignatures1795710000000 } from './1795710000000-callback-signatures';
import { TasksClaimIndex1795730000000 } from './1795730000000-tasks-claim-index';
import { ContactsStageActivityIndex1795750000000 } from './1795750000000-contacts-stage-activity-index';
import { ContactsListIndex1795780000000 } from './1795780000000-contacts-list-index';
import { ContactRemarkPhoneSearch1795800000000 } from './1795800000000-contact-remark-phone-search';
import { ContactTagChanges1795810000000 } from './1795810000000-contact-tag-changes';
import { Settings1795820000000 } from './1795820000000-settings';
import { InteractionsDirection1795840000000 } from './1795840000000-interactions-direction';
import { Segments1795850000000 } from './1795850000000-segments';
import { ScoringLifecycle1795860000000 } from './1795860000000-scoring-lifecycle';
import { OutboxDelivery1795870000000 } from './1795870000000-outbox-delivery';
import { Journeys1795880000000 } from './1795880000000-journeys';
import { OutboxMessages1795890000000 } from './1795890000000-outbox-messages';
import { SubscribeConsents1795900000000 } from './1795900000000-subscribe-consents';
import { OaCustomWindows1795910000000 } from './1795910000000-oa-custom-windows';
import { WecomGroupMsgSends1795920000000 } from './1795920000000-wecom-group-msg-sends';
import { ContactTimeZone1795940000000 } from './1795940000000-contact-time-zone';
import { Channels1795960000000 } from './1795960000000-channels';
import { PayOrders1795970000000 } from './1795970000000-pay-orders';
import { Exhibitions1795980000000 } from './1795980000000-exhibitions';
import { EventReminders1795985000000 } from './1795985000000-event-reminders';
import { Content1795990000000 } from './1795990000000-content';
import { PayTrialClaims1796050000000 } from './1796050000000-pay-trial-claims';
import { Imports1796000000000 } from './1796000000000-imports';
import { MpSessions1796000000300 } from './1796000000300-mp-sessions';
import { EventCloud1796100000000 } from './1796100000000-event-cloud';
import { EventAfter1796200000000 } from './1796200000000-event-after';
import { ChannelsEventForeignKey1796300000000 } from './1796300000000-channels-event-foreign-key';
import { EventTicketPrice1796400000000 } from './1796400000000-event-ticket-price';
import { OperatorSessionVia1796500000000 } from './1796500000000-operator-session-via';
import { Cards1796600000000 } from './1796600000000-cards';
import { InitMysql1795436218746 } from './mysql/1795436218746-init';
import { InitSqlite1795436218746 } from './sqlite/1795436218746-init';

export type MigrationClass = new () => MigrationInterface;

/**
 * The one registered list, in timestamp order. Every migration after the initial schema is shared
 * and branches on the driver inside (`isMysqlRunner`), so a migration cannot be registered for one
 * database and forgotten for the other. test/unit/db/migration-registry.test.ts checks that
 * every file in this folder is listed here once, in order.
 */
export const MIGRATIONS: readonly MigrationClass[] = [
  SeedDefaultRules1795436300000,
  InboxDropsInteractionId1795500000000,
  InboxClaimedRowsStayPending1795500100000,
  TagRuleNamesUnique1795500200000,
  DropUnreadIndexes1795500300000,
  FoundationsSchema1795600000000,
  JobCursors1795600010000,
  LoginThrottles1795600100000,
  ContactListIndexes1795600200000,
  TasksClaimedRowsStayPending1795600300000,
  BrowserSessions1795600400000,
  AdminPageIndexes1795600500000,
  StatCounters1795600600000,
  DropContactsStageIndex1795600700000,
  MenuEventsTyped1795600800000,
  RenameReactionWork1795700000000,
  CallbackSignatures1795710000000,
  TasksClaimIndex1795730000000,
  ContactsStageActivityIndex1795750000000,
  ContactsListIndex1795780000000,
  ContactRemarkPhoneSearch1795800000000,
  ContactTagChanges1795810000000,
  Settings1795820000000,
  InteractionsDirection1795840000000,
  Segments1795850000000,
  ScoringLifecycle1795860000000,
  OutboxDelivery1795870000000,
  Journeys1795880000000,
  OutboxMessages1795890000000,
  SubscribeConsents1795900000000,
  OaCustomWindows1795910000000,
  WecomGroupMsgSends1795920000000,
  ContactTimeZone1795940000000,
  Channels1795960000000,
  PayOrders1795970000000,
  Exhibitions1795980000000,
  EventReminders1795985000000,
  Content1795990000000,
  Imports1796000000000,
  MpSessions1796000000300,
  PayTrialClaims1796050000000,
  EventCloud1796100000000,
  EventAfter1796200000000,
  ChannelsEventForeignKey1796300000000,
  EventTicketPrice1796400000000,
  OperatorSessionVia1796500000000,
  Cards1796600000000,
];

/**
 * The initial schema is the one migration written per database: databases already installed
 * recorded it as `InitMysql…` or `InitSqlite…`, and TypeORM matches executed migrations by name.
 */
const INITIAL: Record<DatabaseConfig['kind'], MigrationClass> = { mysql: InitMysql1795436218746, sqlite: InitSqlite1795436218746 };

export function migrationsFor(kind: DatabaseConfig['kind']): MigrationClass[] {
  return [INITIAL[kind], ...MIGRATIONS];
}
