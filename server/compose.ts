import type Router from '@koa/router';
import type { DataSource } from 'typeorm';
import { SANDBOX_CREDENTIALS, type Config } from '../config/config.schema';
import type { Clock } from './adapters/clock';
import type { Logger } from './adapters/logger';
import { Metrics } from './adapters/metrics';
import { MiniProgramClient } from './adapters/miniprogram.client';
import { OfficialAccountClient } from './adapters/official-account.client';
import { createRateLimiter } from './adapters/rate-limiter';
import { TokenStore } from './adapters/token-store';
import { WecomAgentClient } from './adapters/wecom-agent.client';
import { WecomClient } from './adapters/wecom.client';
import { readQueueStats } from './db/queue-stats';
import { createDatabaseReadiness } from './db/readiness';
import { Transactor } from './db/transaction';
import { createAdminAuthRouter } from './http/admin-auth.routes';
import { createAdminConfigRouter } from './http/admin-config.routes';
import { createAdminContactsRouter } from './http/admin-contacts.routes';
import { createSidebarRouter } from './http/sidebar.routes';
import { SidebarService } from './modules/sidebar/sidebar.service';
import { SidebarActionsService } from './modules/sidebar/sidebar-actions.service';
import { ContactNotesService } from './modules/contacts/contact-notes.service';
import { createAdminFailedWorkRouter } from './http/admin-failed-work.routes';
import { createAdminOperatorsRouter } from './http/admin-operators.routes';
import { createAdminSetupRouter } from './http/admin-setup.routes';
import { createAdminStatsRouter } from './http/admin-stats.routes';
import { createAdminTagsRouter } from './http/admin-tags.routes';
import { createAuth } from './http/auth.middleware';
import { createCallbacksRouter } from './http/callbacks.routes';
import { DrainGate } from './http/drain-gate';
import { createOpsRouter } from './http/ops.routes';
import { DatabaseRunCoordinator } from './modules/job-runs/run-coordinator.service';
import type { JobDefinition } from './jobs/scheduler';
import { AuditService } from './modules/audit/audit.service';
import { CallbackSignatures } from './modules/callbacks/callback-signatures';
import { CallbackStore } from './modules/callbacks/callback-store';
import { CallbacksService } from './modules/callbacks/callbacks.service';
import { createActivityReaction } from './modules/contacts/activity.reaction';
import { createSearchTermsReaction } from './modules/contacts/search-terms.reaction';
import { ContactsQueryService } from './modules/contacts/contacts-query.service';
import { TimelineService } from './modules/timeline/timeline.service';
import { ContactsService } from './modules/contacts/contacts.service';
import { createOfficialAccountProfileReaction } from './modules/contacts/oa-profile.reaction';
import { createCustomWindowReaction } from './modules/outbox/custom-window';
import { createSourceReaction } from './modules/contacts/source.reaction';
import { UnionidBackfillService } from './modules/contacts/unionid-backfill.service';
import { createWecomContactReaction } from './modules/contacts/wecom-contact.reaction';
import { createFailedWorkSources, FailedWorkService } from './modules/failed-work/failed-work.service';
import { InteractionsService, type RecordResult } from './modules/interactions/interactions.service';
import { OperatorsService } from './modules/operators/operators.service';
import { PasswordHasher } from './modules/operators/password-hash';
import { reactionsWant } from './modules/reactions/reaction';
import { ReactionsWorker } from './modules/reactions/reactions.worker';
import { ScoringService } from './modules/scoring/scoring.service';
import { TagRulesEngine } from './modules/tag-rules/tag-rules.engine';
import { createTagRulesReaction } from './modules/tag-rules/tag-rules.reaction';
import { TagRulesService } from './modules/tag-rules/tag-rules.service';
import { TagSyncService } from './modules/tag-sync/tag-sync.service';
import { WecomTagMirror } from './modules/tag-sync/wecom-tag-mirror';
import { TagCatalogService } from './modules/tags/tag-catalog.service';
import { SetupService } from './modules/setup/setup.service';
import { StatCountersService } from './modules/stats/stat-counters';
import { StatsService } from './modules/stats/stats.service';
import { ManualTaggingService } from './modules/tags/manual-tagging.service';
import { ContactTagsService } from './modules/tags/contact-tags.service';
import { TaskQueue } from './modules/tasks/task-queue.service';
import { SandboxClockStore } from './modules/sandbox/sandbox-clock.store';
import { SandboxFollowersService } from './modules/sandbox/sandbox-followers.service';
import { createAdminSandboxRouter } from './http/admin-sandbox.routes';
import { createAdminSegmentsRouter } from './http/admin-segments.routes';
import { SegmentFilters } from './modules/segments/segment-filters';
import { SegmentMembership } from './modules/segments/segment-membership';
import { SegmentsService } from './modules/segments/segments.service';
import { createAdminDeliveryScreensRouter } from './http/admin-delivery-screens.routes';
import { listBroadcasts } from './modules/broadcasts/broadcasts-list';
import { DeliverySettingsService } from './modules/delivery-settings/delivery-settings.service';
import { TemplateLibraryService } from './modules/template-library/template-library.service';
import { createAdminScoringRouter } from './http/admin-scoring.routes';
import { createLifecycleReaction } from './modules/lifecycle/lifecycle.reaction';
import { LifecycleService } from './modules/lifecycle/lifecycle.service';
import { SalesAssignmentService } from './modules/sales/sales-assignment.service';
import { ScoringDailyService } from './modules/scoring/scoring-daily.service';
import { ScoreRulesEngine } from './modules/scoring/score-rules.engine';
import { ScoreRulesService } from './modules/scoring/score-rules.service';
import { createScoringReaction } from './modules/scoring/scoring.reaction';
import { ScoringSettingsStore } from './modules/scoring/scoring-settings';
import { SilentCustomersService } from './modules/silent-customers/silent-customers.service';
import { createAdminBroadcastsRouter } from './http/admin-broadcasts.routes';
import { unlimitedRateLimiter } from './adapters/rate-limiter';
import { BroadcastsService, createAllContactsAudience, type BroadcastAudience } from './modules/broadcasts/broadcasts.service';
import { OaTemplateDriver } from './modules/outbox/drivers/oa-template.driver';
import { OaCustomDriver } from './modules/outbox/drivers/oa-custom.driver';
import { SmsDriver } from './modules/outbox/drivers/sms.driver';
import { SmsClient } from './adapters/sms.client';
import { SMS_DEFAULT_ENDPOINT } from '../config/sms.config';
import { WecomGroupMsgDriver } from './modules/outbox/drivers/wecom-group-msg.driver';
import { createMpSubscribeDriver } from './modules/outbox/drivers/mp-subscribe.driver';
import { createOaSubscribeDriver } from './modules/outbox/drivers/oa-subscribe.driver';
import { OutboxSender } from './modules/outbox/outbox-sender';
import { createDeliveryReaction } from './modules/outbox/delivery.reaction';
import { createSubscribeConsentReaction } from './modules/subscribe-consent/subscribe-consent.reaction';
import { SubscribeConsentService } from './modules/subscribe-consent/subscribe-consent.service';
import { OutboxService } from './modules/outbox/outbox.service';
import { rateOfBucket, SendBudget } from './modules/outbox/send-budget';
import { WecomConfirmations } from './modules/outbox/wecom-confirmations';
import { createAdminJourneysRouter, createTrackedLinksRouter } from './http/admin-journeys.routes';
import { JourneyEngine } from './modules/journeys/journey-engine';
import { createJourneyEntryReactions } from './modules/journeys/journey-entry.reaction';
import type { SalesPort, SegmentsPort } from './modules/journeys/journey-ports';
import { JourneyDefinitions } from './modules/journeys/journey-runs';
import { JourneysService } from './modules/journeys/journeys.service';
import { LinkSigner, loadLinkSecret } from './modules/journeys/tracked-links';
import type { PayMerchantConfig } from '../config/pay.config';
import { merchantConfigOfSandbox, processSandboxPayKeys } from './adapters/sandbox/sandbox-pay-keys';
import { PAY_API_HOST, WechatPayClient } from './adapters/wechat-pay.client';
import { createAdminPaymentsRouter } from './http/admin-payments.routes';
import { createPayRouter } from './http/pay.routes';
import { createOffersRouter } from './http/offers.routes';
import { PaymentsService } from './modules/payments/payments.service';
import { createAdminChannelsRouter } from './http/admin-channels.routes';
import { createChannelReaction } from './modules/channels/channel.reaction';
import { ChannelWelcomeSender } from './modules/channels/channel-welcome';
import { ChannelsService } from './modules/channels/channels.service';
import { createVisitorMiddleware, createVisitorReader, visitorContactId } from './http/visitor.middleware';
import { loadVisitorSecret, VisitorsService } from './modules/visitors/visitors.service';
import { WECHAT_OAUTH_BASE_DEFAULT } from './wechat/web-oauth';
import { SidebarSignInService } from './modules/sidebar/sidebar-sign-in.service';
import { SidebarJssdkService } from './modules/sidebar/sidebar-jssdk.service';
import { SidebarSetupService } from './modules/setup/sidebar-setup.service';
import { createSidebarJssdkRouter } from './http/sidebar-jssdk.routes';
import { createAdminEventsRouter } from './http/admin-events.routes';
import { createAdminEventReportRouter } from './http/admin-event-report.routes';
import { createAdminEventAfterRouter } from './http/admin-event-after.routes';
import { createEventSurveyRouter } from './http/event-survey.routes';
import { EventFollowupsService } from './modules/exhibitions/event-followups.service';
import { EventRecapService } from './modules/exhibitions/event-recap.service';
import { SurveysService } from './modules/exhibitions/surveys.service';
import { EventReportService } from './modules/exhibitions/event-report.service';
import { EventRemindersService } from './modules/exhibitions/event-reminders.service';
import { getUtcOffsetMinutes } from './modules/reports/business-day';
import { createEventsRouter } from './http/events.routes';
import { createAdminEventCloudRouter } from './http/admin-event-cloud.routes';
import { createEventCloudRouter } from './http/event-cloud.routes';
import { EventCloudService } from './modules/exhibitions/event-cloud.service';
import { CheckinsService } from './modules/exhibitions/checkins.service';
import { EventsService } from './modules/exhibitions/events.service';
import { RegistrationsService } from './modules/exhibitions/registrations.service';
import { loadTicketSecret } from './modules/exhibitions/ticket-secret';
import { LoginThrottleStore } from './modules/operators/login-throttle';
import { createAdminContentRouter } from './http/admin-content.routes';
import { createContentRouter, type VisitorIdentifier } from './http/content.routes';
import { S3Client } from './adapters/s3.client';
import { DiskContentStorage, S3ContentStorage, type ContentStorage } from './modules/content/content-storage';
import { ContentService } from './modules/content/content.service';
import { createAdminImportsRouter } from './http/admin-imports.routes';
import { ImportsService } from './modules/imports/imports.service';
import { createMpRouter } from './http/mp.routes';
import { createMpCardsRouter } from './http/mp-cards.routes';
import { createAdminCardsRouter } from './http/admin-cards.routes';
import { CardsService } from './modules/cards/cards.service';
import { CardVisitorsService } from './modules/cards/card-visitors.service';
import { createAdminMpStaffRouter } from './http/admin-mp-staff.routes';
import { MpSessionsService } from './modules/miniprogram/mp-sessions.service';
import { MpStaffService } from './modules/miniprogram/mp-staff.service';
import { loadStoredSecret } from './db/stored-secret';

export interface ComposeParams {
  config: Readonly<Config>;
  dataSource: DataSource;
  clock: Clock;
  logger: Logger;
  /** This instance's id, for leases. */
  holder: string;
  /**
   * Where the adapters reach WeChat, WeCom, Tencent Cloud SMS and WeChat Pay (the sandbox's URLs in
   * sandbox mode). SMS: SMS_ENDPOINT when set comes first; absent, Tencent's host. `oauth`: web
   * OAuth's authorize page (the sandbox's in sandbox mode); absent, WECHAT_OAUTH_BASE or WeChat's.
   */
  apiBases: { wechat: string; wecom: string; sms?: string; pay?: string; oauth?: string };
  /**
   * WeChat Pay's merchant when not the configured one: a test's keys (with a platform certificate).
   * Default: config.pay.merchant, or in sandbox mode the process's generated sandbox merchant.
   */
  payMerchant?: PayMerchantConfig;
  /** Shorter platform timeouts in tests. */
  platformTimeoutMs?: number;
  /** How long a callback may wait for its commit before it answers 503 (tests shorten it). */
  callbackDeadlineMs?: number;
  /** How many callbacks may wait for a group before the next is refused 503 (tests shorten it). */
  callbackQueueLimit?: number;
  /**
   * The operators' clock (sessions, login throttles, the audit log), when it is not `clock`: in
   * sandbox mode `clock` can skip days ahead, and that must not log the person at the page out.
   */
  operatorClock?: Clock;
  /**
   * Contacts the daily job has just found silent (tagged 沉默用户); by default the newest active
   * journey made from the `reactivation` template enrols them (JourneysService.enrollSilent).
   */
  onContactsSilent?: (contactIds: number[]) => Promise<void>;
  /**
   * Who a broadcast goes to, when a test wants another audience than the segment's kept members
   * (every live contact for a broadcast that names no segment).
   */
  broadcastAudience?: BroadcastAudience;
  /** The outbox's claim lease (tests of lost sends shorten it). */
  outboxLeaseMs?: number;
  /**
   * What journeys ask of segments and of sales assignment; the integrator passes the segments
   * compiler's membership and the scoring module's stage/assignment services here.
   */
  journeyPorts?: { segments?: SegmentsPort; sales?: SalesPort };
  /**
   * Who reads a content page (`/c/<code>`): a contact id or null. Default: nobody is known (views
   * are counted by the anonymous visitor cookie); web OAuth (snsapi_base) is to be passed here.
   */
  identifyVisitor?: VisitorIdentifier;
  /** The content centre's file store (default: the folder config.content.dir). */
  contentStorage?: ContentStorage;
}

export type Services = ReturnType<typeof composeServices>;

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Callback groups committing at once on MySQL: three of the pool's ten connections, leaving the
 * rest to the reactions, the tasks and the admin page (bench:callbacks, docs/BENCHMARKS.md).
 */
const CALLBACK_STORE_WRITERS_MYSQL = 3;

/** How many tasks a pass handled, for the sandbox clock (it plays a moment again while work gets done). */
function countOutcome(outcome: { done: number; retried: number; failed: number }): number {
  return outcome.done + outcome.retried + outcome.failed;
}

/**
 * Operators and the audit log alone, for the server and for `npm run admin` (which needs no
 * platform clients). Part of the composition root: composeServices builds them through this.
 */
export function composeOperators(p: {
  dataSource: DataSource;
  clock: Clock;
  logger: Logger;
  /** scrypt's N for new password hashes (config.passwordScryptN). */
  passwordScryptN: number;
  transactor?: Transactor;
  metrics?: Metrics;
}) {
  const transactor = p.transactor ?? new Transactor(p.dataSource);
  const audit = new AuditService({ dataSource: p.dataSource, clock: p.clock });
  const operators = new OperatorsService({
    dataSource: p.dataSource,
    transactor,
    clock: p.clock,
    logger: p.logger,
    audit,
    passwords: new PasswordHasher(p.passwordScryptN),
    metrics: p.metrics,
  });
  return { audit, operators };
}

/**
 * The one composition root: every adapter, repository and service is built here, with its
 * dependencies passed in. Tests call this with a test database, a manual clock and the sandbox.
 */
export function composeServices(p: ComposeParams) {
  const { config, dataSource, clock, logger, holder } = p;
  const transactor = new Transactor(dataSource);
  const coordinator = new DatabaseRunCoordinator({ dataSource, clock, holder, logger });
  // This process's metrics, on a registry of its own; the queue gauges are read at each scrape.
  const metrics = new Metrics({ logger, readQueues: () => readQueueStats({ dataSource, clock }) });
  // Closed at shutdown (server/lifecycle.ts): callbacks answer 503, /readyz answers 503.
  const drainGate = new DrainGate();

  const tokenStore = new TokenStore({ dataSource, clock, holder, metrics });
  const rateLimiter = createRateLimiter({ perSecond: 50, burst: 100 });
  const timeoutMs = p.platformTimeoutMs ?? 5_000;
  // A disabled platform (config null) gets no client: nothing can call it, nothing is synced to it.
  const oa = config.officialAccount;
  const wc = config.wecom;
  const officialAccount = oa
    ? new OfficialAccountClient({
        baseUrl: p.apiBases.wechat,
        appId: oa.appId,
        secret: oa.secret,
        tokenStore,
        rateLimiter,
        logger,
        timeoutMs,
      })
    : null;
  const wecom = wc
    ? new WecomClient({ baseUrl: p.apiBases.wecom, corpId: wc.corpId, secret: wc.secret, tokenStore, rateLimiter, logger, timeoutMs })
    : null;
  const wecomAgent = wc
    ? new WecomAgentClient({
        baseUrl: p.apiBases.wecom,
        corpId: wc.corpId,
        agentId: wc.agentId,
        agentSecret: wc.agentSecret,
        tokenStore,
        rateLimiter,
        logger,
        timeoutMs,
      })
    : null;
  const miniprogram = new MiniProgramClient({
    baseUrl: p.apiBases.wechat,
    appId: config.miniprogram.appId,
    secret: config.miniprogram.secret,
    tokenStore,
    rateLimiter,
    logger,
    timeoutMs,
  });

  const operatorClock = p.operatorClock ?? clock;
  const { audit, operators } = composeOperators({
    dataSource,
    transactor,
    clock: operatorClock,
    logger,
    metrics,
    passwordScryptN: config.passwordScryptN,
  });
  const queue = new TaskQueue({ dataSource, clock, holder, logger });
  const tagSync = new TagSyncService({
    dataSource,
    queue,
    officialAccount: oa && officialAccount ? { client: officialAccount, appId: oa.appId } : null,
    wecom: wc && wecom ? { client: wecom, corpId: wc.corpId } : null,
    logger,
  });
  const contacts = new ContactsService({ clock });
  const contactTags = new ContactTagsService({ clock, tagSync });
  const scoring = new ScoringService({ clock });
  const rules = new TagRulesEngine({ dataSource, contactTags, clock });
  const wecomTags = wecom ? new WecomTagMirror({ dataSource, wecom, contactTags, tagSync, clock }) : null;
  // The one filter compiler's queries (segments, journeys' conditions) and the kept memberships.
  // Membership records its events through `interactions`, built below from the reactions' list.
  const segmentFilters = new SegmentFilters({ dataSource, clock });
  const segmentMembership = new SegmentMembership({
    dataSource,
    transactor,
    clock,
    filters: segmentFilters,
    interactions: {
      recordInteractions: (manager, drafts): Promise<RecordResult[]> => interactions.recordInteractions(manager, drafts),
    },
    logger,
  });
  // Lead scoring, the lifecycle and silent customers (issue 14 §1, §6). The sales assignment
  // records on the timeline through `interactions`, built below: it is read when a batch runs.
  const scoringSettings = new ScoringSettingsStore({ dataSource, clock });
  const scoreRulesEngine = new ScoreRulesEngine({ dataSource, clock, timezone: config.businessTimeZone });
  const lifecycle = new LifecycleService({ dataSource, transactor, clock, audit });
  const sales = new SalesAssignmentService({
    dataSource,
    transactor,
    clock,
    logger,
    interactions: (): InteractionsService => interactions,
    queue,
    settings: scoringSettings,
    agent: wecomAgent,
  });
  const silentCustomers = new SilentCustomersService({
    dataSource,
    transactor,
    clock,
    logger,
    contactTags,
    settings: scoringSettings,
    // The re-activation journey takes them (journeys is built below; read when the job runs).
    onContactsSilent: p.onContactsSilent ?? ((ids) => journeys.enrollSilent(ids).then(() => undefined)),
  });
  // Journeys: definitions (cached by version), the tracked links' signer (its key loaded once), the service.
  const journeyDefinitions = new JourneyDefinitions({ dataSource });
  const outbox = new OutboxService({ clock });
  let linkSigner: Promise<LinkSigner> | null = null;
  const links = (): Promise<LinkSigner> => {
    linkSigner ??= loadLinkSecret({ dataSource, clock, configured: config.linkSecret }).then((secret) => new LinkSigner(secret));
    linkSigner.catch(() => (linkSigner = null));
    return linkSigner;
  };
  // What journeys ask of segments (kept membership) and of the lifecycle and sales assignment.
  const segmentsPort: SegmentsPort = p.journeyPorts?.segments ?? {
    isInSegment: (manager, contactIds, segmentId) => segmentMembership.membersAmong(manager, contactIds, segmentId),
    listMembers: (segmentId, afterId, limit) => segmentMembership.listMemberIds(segmentId, afterId, limit),
  };
  const salesPort: SalesPort = p.journeyPorts?.sales ?? {
    async setStage(manager, contactIds, stage, journey) {
      const actor = { kind: 'journey' as const, id: journey.id, name: journey.name };
      const moves = contactIds.map((contactId) => ({ contactId, stage, actor }));
      await lifecycle.moveStages(manager, moves, { forwardOnly: false });
    },
    async assignToSales(manager, contactIds, cause) {
      for (const contactId of contactIds) await sales.assignIn(manager, { contactId, reason: cause });
    },
  };
  const journeys: JourneysService = new JourneysService({
    dataSource,
    transactor,
    clock,
    audit,
    // `interactions` is built below, with the reactions' list this service's reaction is in.
    interactions: { recordInteraction: (m, draft): Promise<RecordResult> => interactions.recordInteraction(m, draft) },
    definitions: journeyDefinitions,
    segments: segmentsPort,
    links,
    timezone: config.businessTimeZone,
    publicBaseUrl: config.publicBaseUrl,
    // `content` is built below; a definition is checked only once the app serves.
    materials: { isLive: (code) => content.isLive(code) },
  });
  // Subscribe-message consent: the Official Account's popup and change events (a reaction below),
  // the mini-program's reports (recordMiniProgramConsent), spent by the subscribe drivers.
  const subscribeConsents = new SubscribeConsentService({ transactor, clock });
  // Channel codes (渠道活码, issue 15 §1): made on their platform, attributed by a reaction.
  const channels = new ChannelsService({
    dataSource,
    transactor,
    clock,
    audit,
    logger,
    officialAccount,
    wecom,
    miniprogram,
    publicBaseUrl: config.publicBaseUrl,
    // `interactions` and `reactions` are built below, with the reactions' list this service's reaction is in.
    visits: {
      interactions: { recordInteraction: (m, draft): Promise<RecordResult> => interactions.recordInteraction(m, draft) },
      onRecorded: () => reactions.kick(),
    },
  });
  const channelWelcomes = wecom ? new ChannelWelcomeSender({ dataSource, clock, logger, wecom }) : null;
  // Visitors of the public H5 pages, identified inside WeChat by web OAuth (issue 15 §3). The
  // cookie and the state run on the operators' clock: a sandbox skip must not sign visitors out.
  let visitorSecret: Promise<Buffer> | null = null;
  // Signs the visitors' cookie and state, and the sidebar's state (one key, kept in `settings`).
  const oauthStateSecret = (): Promise<Buffer> => {
    visitorSecret ??= loadVisitorSecret({ dataSource, clock, configured: config.visitors.secret });
    visitorSecret.catch(() => (visitorSecret = null));
    return visitorSecret;
  };
  const visitors = new VisitorsService({
    transactor,
    contacts,
    clock: operatorClock,
    logger,
    secret: oauthStateSecret,
    oauth:
      oa && officialAccount
        ? {
            appId: oa.appId,
            authorizeBase: p.apiBases.oauth ?? config.visitors.oauthBase ?? WECHAT_OAUTH_BASE_DEFAULT,
            publicBaseUrl: config.publicBaseUrl,
            exchangeCode: (code) => officialAccount.exchangeWebOauthCode(code),
          }
        : null,
    cookieMaxAgeSeconds: config.visitors.cookieMaxAgeSeconds,
  });
  // Mounted by the public pages' routers (/e, /c): visitorContactId(ctx) after it.
  const visitorMiddleware = createVisitorMiddleware({ visitors, publicBaseUrl: config.publicBaseUrl });
  // The WeCom sidebar (issue 16): its rep signs in by WeCom's OAuth2 (the same signed state and
  // key as the visitors'), and its page is signed for the JS-SDK with the shared tickets. Both
  // need the self-built app: without it /sidebar says so and nobody signs in.
  const sidebarApp = wc && wecomAgent && wc.agentId !== '' && wc.agentSecret !== '' ? { wc, agent: wecomAgent } : null;
  const sidebarSignIn = new SidebarSignInService({
    clock: operatorClock,
    logger,
    secret: oauthStateSecret,
    operators,
    wecom: sidebarApp
      ? {
          corpId: sidebarApp.wc.corpId,
          agentId: sidebarApp.wc.agentId,
          authorizeBase: p.apiBases.oauth ?? config.visitors.oauthBase ?? WECHAT_OAUTH_BASE_DEFAULT,
          publicBaseUrl: config.publicBaseUrl,
          exchangeCode: (code) => sidebarApp.agent.getUserInfoByCode(code),
        }
      : null,
  });
  const sidebarJssdk = new SidebarJssdkService({
    clock: operatorClock,
    logger,
    publicBaseUrl: config.publicBaseUrl,
    wecom: sidebarApp
      ? {
          corpId: sidebarApp.wc.corpId,
          agentId: sidebarApp.wc.agentId,
          corpTicket: () => sidebarApp.agent.getCorpJsapiTicket(),
          agentTicket: () => sidebarApp.agent.getAgentJsapiTicket(),
        }
      : null,
  });
  const sidebarSetup = new SidebarSetupService({
    publicBaseUrl: config.publicBaseUrl,
    sandbox: config.sandbox,
    agent: sidebarApp?.agent ?? null,
    operators,
  });
  /** What app.ts needs to serve /sidebar (with its root): the sign-in and the session check. */
  const sidebarWeb = {
    signIn: sidebarSignIn,
    hasLiveSession: async (token: string): Promise<boolean> => (await operators.authenticateSession(token)) !== null,
    publicBaseUrl: config.publicBaseUrl,
  };
  // What happens after an interaction is on the timeline, in order. Adding a reaction is one line;
  // a platform that is not configured brings none of its reactions.
  const reactions = new ReactionsWorker({
    dataSource,
    transactor,
    contacts,
    clock,
    logger,
    holder,
    metrics,
    reactions: [
      ...(officialAccount ? [createOfficialAccountProfileReaction({ officialAccount, contacts, logger })] : []),
      ...(wecom && wecomTags
        ? [createWecomContactReaction({ wecom, contacts, wecomTags, logger }), wecomTags.createCatalogReaction()]
        : []),
      createSourceReaction({ contacts }),
      // After the source (it reads the first touch the source wrote) and before the tag rules.
      createChannelReaction({ channels, contacts, contactTags, welcomes: channelWelcomes }),
      createActivityReaction({ contacts }),
      // A registration's contact (its name, its phone): RegistrationsService.contactFor leaves the terms to the batch.
      createSearchTermsReaction(['registration']),
      createTagRulesReaction({ rules, scoring }),
      createLifecycleReaction({ lifecycle }),
      createScoringReaction({ engine: scoreRulesEngine, scoring, sales }),
      silentCustomers.createReaction(),
      ...(oa ? [createSubscribeConsentReaction({ consents: subscribeConsents, appId: oa.appId })] : []),
      // TEMPLATESENDJOBFINISH and subscribe_msg_sent_event: the outbox row's delivery status and message_delivered / message_failed.
      createDeliveryReaction({ interactions: (): InteractionsService => interactions }),
      // The customer-service window (oa_custom sends): opened by a follower's message, click, follow or scan.
      ...(oa ? [createCustomWindowReaction({ appId: oa.appId, now: () => clock.now() })] : []),
      ...createJourneyEntryReactions({ journeys }),
      // Last: it must see the tags, stage and scores the reactions above wrote.
      segmentMembership.createReaction(),
    ],
  });
  // Only interactions a registered reaction is given get a work row (not, by default, the sends).
  const interactions: InteractionsService = new InteractionsService({ clock, contacts, wantsWork: reactionsWant(reactions.reactions) });
  const journeyEngine = new JourneyEngine({
    dataSource,
    transactor,
    clock,
    logger,
    definitions: journeyDefinitions,
    outbox,
    contactTags,
    scoring,
    segments: segmentsPort,
    sales: salesPort,
    links,
    publicBaseUrl: config.publicBaseUrl,
    timezone: config.businessTimeZone,
    oaAppId: oa?.appId ?? null,
  });
  const unionidBackfill =
    officialAccount && oa
      ? new UnionidBackfillService({ dataSource, transactor, contacts, officialAccount, oaAppId: oa.appId, clock, logger })
      : null;
  const callbackStore = new CallbackStore({
    transactor,
    interactions,
    logger,
    deadlineMs: p.callbackDeadlineMs,
    maxWaiting: p.callbackQueueLimit,
    writers: dataSource.options.type === 'better-sqlite3' ? 1 : CALLBACK_STORE_WRITERS_MYSQL,
  });
  const callbackSignatures = new CallbackSignatures({ dataSource, transactor });
  const callbacks = new CallbacksService({
    officialAccount: oa ? { appId: oa.appId, token: oa.token, aesKey: oa.aesKey, messageMode: oa.messageMode } : null,
    wecom: wc ? { corpId: wc.corpId, token: wc.token, aesKey: wc.aesKey } : null,
    maxAgeSeconds: config.callbackMaxAgeSeconds,
    store: { accept: (draft) => metrics.timeCallbackStore(callbackStore.accept(draft)) },
    signatures: callbackSignatures,
    reactions,
    rules,
    channelReply: channels,
    clock,
    logger,
  });
  const contactsQuery = new ContactsQueryService({ dataSource, clock });
  const timeline = new TimelineService({ dataSource, contactsQuery });
  const tagCatalog = new TagCatalogService({ dataSource, clock, audit, transactor, tagSync, onRulesChanged: () => rules.invalidate() });
  const tagRules = new TagRulesService({ dataSource, clock, audit, transactor, onRulesChanged: () => rules.invalidate() });
  // Re-driving needs no lease settings: it resets failed rows whatever worker claims them later.
  const failedWork = new FailedWorkService({
    dataSource,
    transactor,
    audit,
    sources: createFailedWorkSources({ tasks: queue.leases, reactions: reactions.queue }),
  });
  const manualTagging = new ManualTaggingService({ dataSource, transactor, contactTags, audit, queue, contactsQuery, logger });
  const contactNotes = new ContactNotesService({ transactor, audit, contactsQuery, clock });
  const stats = new StatsService({ dataSource, clock, timezone: config.businessTimeZone });
  const statCounters = new StatCountersService({ dataSource, transactor, clock });
  const segments = new SegmentsService({ dataSource, transactor, clock, audit, filters: segmentFilters, membership: segmentMembership });
  const setup = new SetupService({ config, officialAccount, wecom, tokenStore, audit, clock });
  const auth = createAuth(operators);
  const scoreRules = new ScoreRulesService({
    dataSource,
    transactor,
    clock: operatorClock,
    audit,
    settings: scoringSettings,
    onRulesChanged: () => scoreRulesEngine.invalidate(),
  });
  const scoringDaily = new ScoringDailyService({
    dataSource,
    transactor,
    clock,
    timezone: config.businessTimeZone,
    settings: scoringSettings,
    sales,
    engine: scoreRulesEngine,
    scoring,
  });

  // The outbox: every message sent, at most once (docs/ARCHITECTURE.md, "The outbox"). Sends go
  // through a client of their own without the in-process limiter: the shared budget in
  // outbox_limits is their limit, across instances.
  const sendBudget = new SendBudget({ dataSource, clock, rateOf: (bucket) => rateOfBucket(config.outbox.rateLimits, bucket) });
  const outboxClient = oa
    ? new OfficialAccountClient({
        baseUrl: p.apiBases.wechat,
        appId: oa.appId,
        secret: oa.secret,
        tokenStore,
        rateLimiter: unlimitedRateLimiter,
        logger,
        timeoutMs,
      })
    : null;
  // Tencent Cloud SMS (the `sms` channel); without an SMS account its rows wait. The sandbox's
  // public account goes only to a sandbox (apiBases.sms), never to Tencent.
  const smsEndpoint = config.sms
    ? (config.sms.endpoint ?? p.apiBases.sms ?? (config.sms.sandboxAccount ? null : `https://${SMS_DEFAULT_ENDPOINT}`))
    : null;
  const smsClient = config.sms && smsEndpoint ? new SmsClient({ ...config.sms, endpoint: smsEndpoint, timeoutMs }) : null;
  const outboxWecomClient = wc
    ? new WecomClient({
        baseUrl: p.apiBases.wecom,
        corpId: wc.corpId,
        secret: wc.secret,
        tokenStore,
        rateLimiter: unlimitedRateLimiter,
        logger,
        timeoutMs,
      })
    : null;
  const outboxMiniProgram = new MiniProgramClient({
    baseUrl: p.apiBases.wechat,
    appId: config.miniprogram.appId,
    secret: config.miniprogram.secret,
    tokenStore,
    rateLimiter: unlimitedRateLimiter,
    logger,
    timeoutMs,
  });
  // The 推送设置 screen's quiet hours and caps override the environment's (read live by the sender).
  const deliverySettings = new DeliverySettingsService({ dataSource, transactor, clock, audit, defaults: config.outbox });
  const templateLibrary = new TemplateLibraryService({
    listPrivateTemplates: officialAccount ? () => officialAccount.getAllPrivateTemplates() : null,
    clock,
  });
  const outboxSender = new OutboxSender({
    dataSource,
    transactor,
    clock,
    logger,
    interactions,
    budget: sendBudget,
    config: deliverySettings.liveConfig(config.outbox),
    timeZone: config.businessTimeZone,
    holder,
    drivers: [
      ...(oa && outboxClient
        ? [
            new OaTemplateDriver(oa.appId, outboxClient),
            new OaCustomDriver({ appId: oa.appId, client: outboxClient, clock, perWindow: () => config.outbox.customMessagesPerWindow }),
            createOaSubscribeDriver({ appId: oa.appId, client: outboxClient, consents: subscribeConsents }),
          ]
        : []),
      ...(smsClient ? [new SmsDriver({ client: smsClient, logger })] : []),
      ...(wc && outboxWecomClient ? [new WecomGroupMsgDriver({ corpId: wc.corpId, client: outboxWecomClient, clock })] : []),
      // The mini-program falls back to the sandbox's public credentials outside sandbox mode too;
      // those can send nothing, so its rows wait until MINIPROGRAM_APPID is set.
      ...(config.sandbox || config.miniprogram.appId !== SANDBOX_CREDENTIALS.miniprogramAppId
        ? [createMpSubscribeDriver({ appId: config.miniprogram.appId, client: outboxMiniProgram, consents: subscribeConsents })]
        : []),
    ],
    leaseMs: p.outboxLeaseMs,
  });
  // WeCom messages through the rep wait in `confirming` until the rep sends them from the WeCom
  // client; this check reads get_groupmsg_send_result and settles them (or gives up).
  const wecomConfirmations = wecom
    ? new WecomConfirmations({
        dataSource,
        transactor,
        clock,
        logger,
        interactions,
        client: wecom,
        giveUpMs: config.outbox.wecomConfirmHours * 3_600_000,
      })
    : null;
  // A broadcast goes to its segment's kept members, or to every live contact when it names none.
  const everyone = createAllContactsAudience(dataSource);
  const broadcastAudience: BroadcastAudience = {
    listContactIds: (params) =>
      params.segmentId === null
        ? everyone.listContactIds(params)
        : segmentMembership.listMemberIds(params.segmentId, params.afterId, params.limit),
  };
  const broadcasts = new BroadcastsService({
    dataSource,
    transactor,
    clock,
    logger,
    outbox,
    audience: p.broadcastAudience ?? broadcastAudience,
    audit,
    onQueued: () => outboxSender.kick(),
  });

  // WeChat Pay (issue 15 §7): a merchant from the environment, or the sandbox's in sandbox mode.
  const payMerchant =
    p.payMerchant ?? config.pay.merchant ?? (config.sandbox && oa ? merchantConfigOfSandbox(processSandboxPayKeys(oa.appId)) : null);
  const payments: PaymentsService = new PaymentsService({
    dataSource,
    transactor,
    clock,
    logger,
    audit,
    client: payMerchant
      ? new WechatPayClient({ merchant: payMerchant, baseUrl: p.apiBases.pay ?? config.pay.apiBase ?? PAY_API_HOST, timeoutMs })
      : null,
    verify: payMerchant
      ? {
          mchId: payMerchant.mchId,
          apiV3Key: payMerchant.apiV3Key,
          publicKeys: new Map(payMerchant.platformKeys.map((key) => [key.id, key.publicKeyPem])),
          maxAgeSeconds: config.pay.notifyMaxAgeSeconds,
        }
      : null,
    notifyUrl: `${config.publicBaseUrl}/pay/notify`,
    offerBaseUrl: `${config.publicBaseUrl}/e/offer`,
    interactions: { recordInteraction: (m, draft): Promise<RecordResult> => interactions.recordInteraction(m, draft) },
    onRecorded: () => reactions.kick(),
    // Paid tickets: a registration's order paid or closed moves the registration in the same transaction.
    onOrderPaid: (m, order): Promise<{ refund: boolean }> => registrations.onOrderPaid(m, order),
    onOrderClosed: (m, order): Promise<void> => registrations.onOrderClosed(m, order),
  });

  // Exhibitions (issue 15 §2-4): events, registrations and tickets, check-in at the gates.
  let ticketSecret: Promise<Buffer> | null = null;
  const tickets = (): Promise<Buffer> => {
    ticketSecret ??= loadTicketSecret({ dataSource, clock, configured: config.events.ticketSecret });
    ticketSecret.catch(() => (ticketSecret = null));
    return ticketSecret;
  };
  const events = new EventsService({
    dataSource,
    transactor,
    clock,
    audit,
    visits: { interactions, timeZone: config.businessTimeZone, onRecorded: () => reactions.kick() },
  });
  // Every exhibition message (reminders, waitlist promotions) takes the reminder's templates and
  // channel choice (exhibition-send.ts).
  const exhibitionSends = {
    ...config.events.reminder,
    timezone: config.businessTimeZone,
    oaAppId: oa?.appId ?? null,
    mpAppId: config.miniprogram.appId,
    publicBaseUrl: config.publicBaseUrl,
  };
  const registrations: RegistrationsService = new RegistrationsService({
    dataSource,
    transactor,
    clock,
    logger,
    events,
    contacts,
    interactions,
    outbox,
    throttle: new LoginThrottleStore({ dataSource, clock }),
    ticketSecret: tickets,
    smsCodeTemplateId: config.sms ? config.events.smsCodeTemplateId : null,
    rateLimits: config.events.rateLimits,
    refundFor: payments.enabled ? (refund) => payments.refundFor(refund) : null,
    payments: payments.enabled ? payments : null,
    notices: { consents: subscribeConsents, config: exhibitionSends },
    audit,
    onRecorded: () => reactions.kick(),
    onQueued: () => outboxSender.kick(),
  });
  const eventReminders = new EventRemindersService({
    dataSource,
    transactor,
    clock,
    logger,
    outbox,
    consents: subscribeConsents,
    config: exhibitionSends,
    onQueued: () => outboxSender.kick(),
  });
  const eventReports = new EventReportService({ dataSource, offsetMinutes: (at) => getUtcOffsetMinutes(config.businessTimeZone, at) });
  // After the event (issue 15 §5): the survey (links signed with the tickets' key), the recap and survey sends, the sales follow-ups.
  const surveys = new SurveysService({
    dataSource,
    transactor,
    clock,
    audit,
    interactions,
    secret: tickets,
    publicBaseUrl: config.publicBaseUrl,
    onRecorded: () => reactions.kick(),
  });
  const eventRecaps = new EventRecapService({
    dataSource,
    transactor,
    clock,
    logger,
    audit,
    outbox,
    consents: subscribeConsents,
    surveys,
    templates: { ...config.events.recap, oaAppId: oa?.appId ?? null, mpAppId: config.miniprogram.appId },
    publicBaseUrl: config.publicBaseUrl,
    onQueued: () => outboxSender.kick(),
  });
  const eventFollowups = new EventFollowupsService({
    dataSource,
    transactor,
    clock,
    audit,
    interactions,
    sales,
    onRecorded: () => reactions.kick(),
  });
  const checkins = new CheckinsService({
    dataSource,
    transactor,
    clock,
    events,
    registrations,
    interactions,
    outbox,
    officialAccountAppId: oa?.appId ?? null,
    onRecorded: () => reactions.kick(),
    onQueued: () => outboxSender.kick(),
  });
  // The content centre (内容中心, issue 15 §1b): files on disk (CONTENT_DIR), views through tracked links.
  const content = new ContentService({
    dataSource,
    transactor,
    clock,
    audit,
    logger,
    storage:
      p.contentStorage ??
      (config.content.s3
        ? new S3ContentStorage(new S3Client(config.content.s3), config.content.dir, config.content.s3.prefix)
        : new DiskContentStorage(config.content.dir)),
    publicBaseUrl: config.publicBaseUrl,
    maxUploadBytes: config.content.maxUploadBytes,
    channelExists: async (manager, channelId) => (await channels.findChannelRef(channelId, manager)) !== null,
    interactions: { recordInteraction: (m, draft): Promise<RecordResult> => interactions.recordInteraction(m, draft) },
    onRecorded: () => reactions.kick(),
  });

  // The cloud exhibition (issue 15 §4): an event's content-centre materials, its visits, and the
  // online consult that hands the person to their rep.
  const eventCloud = new EventCloudService({
    dataSource,
    transactor,
    clock,
    audit,
    events,
    registrations,
    linkOf: (code, channelId, eventId) => content.linkOf(code, channelId, eventId),
    interactions,
    sales,
    timezone: config.businessTimeZone,
    onRecorded: () => reactions.kick(),
  });

  // Lead imports (issue 15 §3): contacts, tags and interactions through their own services.
  const imports = new ImportsService({
    dataSource,
    transactor,
    clock,
    logger,
    audit,
    contacts,
    contactTags,
    interactions,
    identityApps: { wecomCorpId: wc?.corpId ?? null, oaAppId: oa?.appId ?? null },
    queue,
  });

  // The WeCom sidebar (issue 16): a rep's read of the customer in the chat, from the admin page's services.
  const sidebar = new SidebarService({
    dataSource,
    clock,
    contactsQuery,
    timeline,
    scoringSettings,
    wecomCorpId: wc?.corpId ?? null,
  });
  const sidebarActions = new SidebarActionsService({
    dataSource,
    transactor,
    clock,
    audit,
    sidebar,
    manualTagging,
    lifecycle,
    followups: eventFollowups,
    content,
    interactions,
    publicBaseUrl: config.publicBaseUrl,
    miniProgramAppId: config.miniprogram.appId || null,
    onRecorded: () => reactions.kick(),
  });
  // The mini-program's API (issue 17 §2-3): sessions from code2Session, staff bound by an admin's
  // one-time code. Their clocks are the operators': a sandbox skip signs nobody out.
  let mpSessionSecret: Promise<Buffer> | null = null;
  const mpThrottle = new LoginThrottleStore({ dataSource, clock: operatorClock });
  const mpSessions = new MpSessionsService({
    dataSource,
    transactor,
    clock,
    sessionClock: operatorClock,
    logger,
    appId: config.miniprogram.appId,
    client: miniprogram,
    contacts,
    interactions,
    consents: subscribeConsents,
    sessionKeySecret: () => {
      mpSessionSecret ??= loadStoredSecret({
        dataSource,
        clock,
        configured: config.miniprogram.sessionSecret,
        setting: 'miniprogram.session_key_secret',
      });
      mpSessionSecret.catch(() => (mpSessionSecret = null));
      return mpSessionSecret;
    },
    sessionTtlSeconds: config.miniprogram.sessionTtlSeconds,
    throttle: mpThrottle,
    rateLimits: config.miniprogram.rateLimits,
    onRecorded: () => reactions.kick(),
  });
  const mpStaff = new MpStaffService({ dataSource, transactor, clock: operatorClock, audit, throttle: mpThrottle });

  // The business card (名片, issue 17 §1): cards saved on the admin page (their WeCom contact way
  // made through the channels service), opened in the mini-program; views, shares and visitors.
  const cards = new CardsService({ dataSource, transactor, clock, audit, logger, channels });
  const cardVisitors = new CardVisitorsService({
    dataSource,
    transactor,
    clock,
    logger,
    cards,
    interactions,
    sales,
    staffOperatorOf: async (caller) => (await mpStaff.staffOf(caller))?.operatorId ?? null,
    hasPhone: (caller) => mpSessions.hasPhone(caller),
    queue,
    agent: wecomAgent,
    onRecorded: () => reactions.kick(),
  });

  const readiness = createDatabaseReadiness({ dataSource, clock, logger });

  const routers: Router[] = [
    createOpsRouter({ readiness, gate: drainGate, metrics, metricsToken: config.metricsToken }),
    createCallbacksRouter({ callbacks, gate: drainGate, metrics }),
    createAdminAuthRouter({ operators, auth }),
    createAdminConfigRouter({
      pageConfig: { sandbox: config.sandbox, timezone: config.businessTimeZone, locale: config.adminLocale },
      auth,
    }),
    createAdminContactsRouter({ contactsQuery, timeline, manualTagging, contactNotes, audit, auth }),
    createSidebarRouter({ sidebar, actions: sidebarActions, tagCatalog, auth }),
    createAdminTagsRouter({ tagCatalog, tagRules, rules, auth }),
    createAdminStatsRouter({ stats, auth }),
    createAdminSetupRouter({ setup, sidebarSetup, auth }),
    createSidebarJssdkRouter({ jssdk: sidebarJssdk, auth }),
    createAdminOperatorsRouter({ operators, audit, auth }),
    createAdminFailedWorkRouter({ failedWork, auth }),
    createAdminSegmentsRouter({ segments, auth }),
    createAdminScoringRouter({ scoreRules, lifecycle, auth }),
    createAdminBroadcastsRouter({ broadcasts, auth }),
    createAdminDeliveryScreensRouter({ listBroadcasts: () => listBroadcasts(dataSource), templateLibrary, deliverySettings, auth }),
    createAdminJourneysRouter({ journeys, auth }),
    createTrackedLinksRouter({ journeys }),
    createPayRouter({ payments, gate: drainGate, logger }),
    createAdminPaymentsRouter({ payments, auth }),
    createOffersRouter({
      payments,
      readVisitor: createVisitorReader(visitors),
      identifyVisitor: p.identifyVisitor ?? ((ctx) => Promise.resolve(visitorContactId(ctx))),
      limits: registrations,
    }),
    createAdminChannelsRouter({ channels, auth }),
    createAdminEventsRouter({ events, checkins, registrations, auth }),
    createAdminEventReportRouter({ reports: eventReports, audit, auth }),
    createEventsRouter({ events, registrations, visitor: visitorMiddleware, identifyVisitor: p.identifyVisitor }),
    createAdminEventAfterRouter({
      recaps: eventRecaps,
      surveys,
      followups: eventFollowups,
      salesReps: async () =>
        (
          await dataSource.query<{ id: number | string; username: string; display_name: string | null }[]>(
            "SELECT id, username, display_name FROM operators WHERE role = 'sales' AND disabled = 0 AND wecom_user_id IS NOT NULL AND wecom_user_id <> '' ORDER BY id",
          )
        ).map((o) => ({ operatorId: Number(o.id), name: o.display_name ?? o.username })),
      auth,
    }),
    createEventSurveyRouter({ surveys, registrations }),
    createAdminContentRouter({ content, auth, maxUploadBytes: config.content.maxUploadBytes }),
    createContentRouter({
      content,
      identifyVisitor: p.identifyVisitor ?? ((ctx) => Promise.resolve(visitorContactId(ctx))),
      beforePage: visitorMiddleware,
    }),
    createAdminImportsRouter({ imports, auth, maxBytes: config.importMaxBytes }),
    createAdminEventCloudRouter({ cloud: eventCloud, auth }),
    createEventCloudRouter({ cloud: eventCloud, limitIp: (ip) => registrations.limitIp(ip), readVisitor: createVisitorReader(visitors) }),
    createMpRouter({
      sessions: mpSessions,
      channels,
      staff: mpStaff,
      events,
      registrations,
      checkins,
      content,
      cloud: eventCloud,
      surveys,
      // The reminder's template is the one every exhibition notice goes by (exhibition-send.ts).
      subscribeTemplateIds: config.events.reminder.mpTemplateId === null ? [] : [config.events.reminder.mpTemplateId],
    }),
    createMpCardsRouter({ sessions: mpSessions, cards, visitors: cardVisitors }),
    createAdminCardsRouter({ cards, visitors: cardVisitors, auth }),
    createAdminMpStaffRouter({ staff: mpStaff, auth }),
  ];
  // Sandbox mode: the panel's follower search and the skipped clock's offset (kept across restarts).
  const sandboxClockStore = config.sandbox ? new SandboxClockStore({ dataSource, clock: operatorClock }) : null;
  if (sandboxClockStore)
    routers.push(
      createAdminSandboxRouter({
        followers: new SandboxFollowersService({ dataSource }),
        clockStore: sandboxClockStore,
        clock,
        auth,
        visitors,
        sidebarSignIn,
        publicBaseUrl: config.publicBaseUrl,
      }),
    );

  /** Every scheduled job; node-cron with the database coordinator runs each fire once. */
  const jobs: JobDefinition[] = [
    // Reactions left by a crash or a failed attempt (a kick runs the new ones at once).
    { name: 'reactions-replay', schedule: '*/15 * * * * *', run: () => reactions.processDue() },
    // Journeys: due runs advance (waits ended, opens woke them), and scheduled entries once a day.
    {
      name: 'journeys-advance',
      schedule: '*/5 * * * * *',
      run: () => journeyEngine.advanceDue({ limit: 50_000 }),
      nextDueAt: (after) => journeyEngine.nextDueAt(after),
    },
    { name: 'journeys-schedule', schedule: '0 * * * * *', run: () => journeys.runScheduledEntries() },
    {
      name: 'tag-sync',
      schedule: '*/10 * * * * *',
      run: async () => countOutcome(await queue.runOnce({ handlers: tagSync.handlers() })),
      nextDueAt: (after) => queue.nextDueAt(after),
    },
    // Bulk tag jobs one at a time, apart from the syncs: a long job must not hold up tag syncs.
    {
      name: 'bulk-tags',
      schedule: '*/5 * * * * *',
      run: async () => void (await queue.runOnce({ handlers: manualTagging.handlers(), batchSize: 1 })),
    },
    // An applied lead import's search terms, one import at a time, apart from the syncs.
    {
      name: 'import-search-terms',
      schedule: '*/5 * * * * *',
      run: async () => void (await queue.runOnce({ handlers: imports.handlers(), batchSize: 1 })),
    },
    // The dashboard's counters: changes are counted as deltas with each write, folded in here.
    { name: 'stat-counters', schedule: '*/10 * * * * *', run: async () => void (await statCounters.runOnce()) },
    // Saved segments whose result moves with time ("did X in the last 7 days") or without an
    // interaction (an operator's tagging): each refreshed in set-based SQL.
    { name: 'segments-refresh', schedule: '*/5 * * * *', run: async () => void (await segmentMembership.refreshAll()) },
    // Followers from before Flywheel get their unionid (and merge with the same person elsewhere).
    ...(unionidBackfill
      ? [{ name: 'unionid-backfill', schedule: '23 * * * *', run: async () => void (await unionidBackfill.runBackfill()) }]
      : []),
    // Reps' app messages for new assignments and their card's new viewers: each at most once by its
    // row's pending → sending guard (the WeCom app message is not an outbox channel yet).
    {
      name: 'sales-notify',
      schedule: '*/10 * * * * *',
      run: async () => void (await queue.runOnce({ handlers: { ...sales.handlers(), ...cardVisitors.handlers() } })),
    },
    // Scores fade, then attributes changed without an interaction (a phone typed in) are scored.
    {
      name: 'score-decay',
      schedule: '7 2 * * *',
      run: async () => void (await scoringDaily.runDaily()),
    },
    // 沉默用户: contacts with no inbound interaction for the configured days.
    { name: 'silent-customers', schedule: '37 2 * * *', run: async () => void (await silentCustomers.tagSilentContacts()) },
    // WeChat Pay: unpaid orders whose prepay has expired are closed (at WeChat Pay first).
    ...(payments.enabled ? [{ name: 'pay-close-expired', schedule: '*/5 * * * *', run: () => payments.closeExpired() }] : []),
    // Paid tickets: unpaid registrations past the pay window give their seats back (after the close above).
    { name: 'event-unpaid-release', schedule: '2-59/5 * * * *', run: async () => void (await registrations.releaseExpiredUnpaid()) },
    // Events: the day-before reminders of events whose reminder time has come (and late registrants').
    { name: 'event-reminders', schedule: '20 * * * * *', run: async () => void (await eventReminders.runDue()) },
    // Broadcasts falling due are expanded into the outbox; finished ones are closed.
    { name: 'broadcasts', schedule: '*/5 * * * * *', run: async () => void (await broadcasts.runOnce()) },
    // Sends: one pass here, and the in-process loop carries on while rows are due.
    {
      name: 'outbox-send',
      schedule: '*/5 * * * * *',
      run: async () => {
        const pass = await outboxSender.sendDue();
        if (pass.more) outboxSender.kick();
        return pass.claimed;
      },
      nextDueAt: (after) => outboxSender.nextDueAt(after),
    },
    // WeCom messages waiting for their rep: sent, failed, or still waiting (looked at again later).
    ...(wecomConfirmations
      ? [
          {
            name: 'outbox-wecom-confirm',
            schedule: '*/30 * * * * *',
            run: async () => {
              const pass = await wecomConfirmations.checkDue();
              return pass.sent + pass.failed;
            },
            nextDueAt: (after: Date) => wecomConfirmations.nextDueAt(after),
          },
        ]
      : []),
    {
      name: 'housekeeping',
      schedule: '17 3 * * *',
      run: async () => {
        // Dedupe keys stay on the interactions for good; done work rows go after 7 days at least.
        await reactions.queue.pruneDone(new Date(clock.now().getTime() - 8 * DAY_MS));
        await queue.pruneDone(new Date(clock.now().getTime() - 8 * DAY_MS));
        await coordinator.pruneRuns(new Date(clock.now().getTime() - 2 * DAY_MS));
        await operators.pruneExpiredSessions(operatorClock.now());
        await mpSessions.pruneExpired();
        // Plain-mode signature claims whose timestamps can no longer pass the freshness check.
        await callbackSignatures.prune(clock.now());
      },
    },
  ];

  return {
    transactor,
    tokenStore,
    officialAccount,
    wecom,
    wecomAgent,
    miniprogram,
    audit,
    operators,
    queue,
    tagSync,
    contacts,
    contactTags,
    scoring,
    rules,
    interactions,
    reactions,
    unionidBackfill,
    callbackStore,
    callbacks,
    callbackSignatures,
    contactsQuery,
    timeline,
    tagCatalog,
    tagRules,
    failedWork,
    manualTagging,
    stats,
    statCounters,
    setup,
    routers,
    jobs,
    coordinator,
    metrics,
    drainGate,
    readiness,
    sandboxClockStore,
    segmentFilters,
    segmentMembership,
    segments,
    scoringSettings,
    scoreRulesEngine,
    scoreRules,
    scoringDaily,
    lifecycle,
    sales,
    silentCustomers,
    outbox,
    outboxSender,
    wecomConfirmations,
    sendBudget,
    broadcasts,
    journeys,
    journeyEngine,
    journeyDefinitions,
    deliverySettings,
    templateLibrary,
    subscribeConsents,
    payments,
    channels,
    channelWelcomes,
    visitors,
    visitorMiddleware,
    sidebarSignIn,
    sidebarJssdk,
    sidebarSetup,
    sidebarWeb,
    events,
    registrations,
    checkins,
    content,
    imports,
    eventReminders,
    eventReports,
    eventCloud,
    surveys,
    eventRecaps,
    eventFollowups,
    sidebar,
    sidebarActions,
    mpSessions,
    mpStaff,
    cards,
    cardVisitors,
  };
}
