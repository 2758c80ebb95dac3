import { TimelineService } from '../../server/modules/timeline/timeline.service';
import type { Server } from 'node:http';
import http from 'node:http';
import Koa from 'koa';
import type { DataSource } from 'typeorm';
import type { OperatorRole } from '../../entities/operator.entity';
import { ManualClock } from '../../server/adapters/clock';
import { createLogger } from '../../server/adapters/logger';
import { OfficialAccountClient } from '../../server/adapters/official-account.client';
import { createRateLimiter } from '../../server/adapters/rate-limiter';
import { TokenStore } from '../../server/adapters/token-store';
import { LeaseQueue } from '../../server/db/lease-queue';
import { WecomClient } from '../../server/adapters/wecom.client';
import { Transactor } from '../../server/db/transaction';
import { createAdminAuthRouter } from '../../server/http/admin-auth.routes';
import { createAdminConfigRouter, type AdminPageConfig } from '../../server/http/admin-config.routes';
import { createAdminContactsRouter } from '../../server/http/admin-contacts.routes';
import { ContactNotesService } from '../../server/modules/contacts/contact-notes.service';
import { createAdminFailedWorkRouter } from '../../server/http/admin-failed-work.routes';
import { createAdminOperatorsRouter } from '../../server/http/admin-operators.routes';
import { createAdminTagsRouter } from '../../server/http/admin-tags.routes';
import { createAuth } from '../../server/http/auth.middleware';
import { createErrorMiddleware } from '../../server/http/error.middleware';
import { AuditService } from '../../server/modules/audit/audit.service';
import { ContactsQueryService } from '../../server/modules/contacts/contacts-query.service';
import { createFailedWorkSources, FailedWorkService } from '../../server/modules/failed-work/failed-work.service';
import { OperatorsService } from '../../server/modules/operators/operators.service';
import { PasswordHasher } from '../../server/modules/operators/password-hash';
import { MIN_SCRYPT_N } from '../../config/config.schema';
import { TagRulesService } from '../../server/modules/tag-rules/tag-rules.service';
import { TagSyncService } from '../../server/modules/tag-sync/tag-sync.service';
import { TagCatalogService } from '../../server/modules/tags/tag-catalog.service';
import { TaskQueue } from '../../server/modules/tasks/task-queue.service';
import { createAdminStatsRouter } from '../../server/http/admin-stats.routes';
import { StatCountersService } from '../../server/modules/stats/stat-counters';
import { StatsService } from '../../server/modules/stats/stats.service';
import { ContactsService } from '../../server/modules/contacts/contacts.service';
import { InteractionsService } from '../../server/modules/interactions/interactions.service';
import { ManualTaggingService } from '../../server/modules/tags/manual-tagging.service';
import { ContactTagsService } from '../../server/modules/tags/contact-tags.service';
import { TagRulesEngine } from '../../server/modules/tag-rules/tag-rules.engine';

export interface AdminTestApp {
  /** A Node server for supertest (not listening; supertest binds it to an ephemeral port). */
  server: Server;
  clock: ManualClock;
  audit: AuditService;
  operators: OperatorsService;
  contactsQuery: ContactsQueryService;
  tagCatalog: TagCatalogService;
  tagRules: TagRulesService;
  /** The task queue behind the tag syncs (and the failed-work admin's `tasks`). */
  queue: TaskQueue;
  failedWork: FailedWorkService;
  manualTagging: ManualTaggingService;
  contactTags: ContactTagsService;
  contacts: ContactsService;
  interactions: InteractionsService;
  transactor: Transactor;
  /** The dashboard's counters; runOnce() is the job's run. */
  statCounters: StatCountersService;
  /** Creates an operator directly through the service and returns a bearer token for it. */
  signIn(params: SignInParams): Promise<string>;
}

export interface SignInParams {
  username: string;
  role: OperatorRole;
  wecomUserId?: string | null;
  password?: string;
}

export interface AdminTestAppOptions {
  /** Koa's `proxy` (TRUST_PROXY): X-Forwarded-Proto: https then makes the request secure. */
  trustProxy?: boolean;
  pageConfig?: AdminPageConfig;
}

/** The admin API alone: the error middleware, the admin routers and their services, on a manual clock. */
export function buildAdminTestApp(dataSource: DataSource, options: AdminTestAppOptions = {}): AdminTestApp {
  const clock = new ManualClock();
  const logger = createLogger('silent');
  const transactor = new Transactor(dataSource);
  const audit = new AuditService({ dataSource, clock });
  const operators = new OperatorsService({ dataSource, transactor, clock, logger, audit, passwords: new PasswordHasher(MIN_SCRYPT_N) });
  const contactsQuery = new ContactsQueryService({ dataSource, clock });
  // Platform clients that are never called here: the catalog only enqueues its mirror tasks
  // (test/e2e/callbacks/tag-catalog-sync.test.ts runs them against the sandbox).
  const tokenStore = new TokenStore({ dataSource, clock, holder: 'admin-test' });
  const rateLimiter = createRateLimiter({ perSecond: 50, burst: 100 });
  const unreachable = 'http://127.0.0.1:9';
  const client = { tokenStore, rateLimiter, logger, timeoutMs: 1000 };
  const queue = new TaskQueue({ dataSource, clock, holder: 'admin-test', logger });
  const tagSync = new TagSyncService({
    dataSource,
    queue,
    officialAccount: {
      client: new OfficialAccountClient({ baseUrl: unreachable, appId: 'wxadmintest', secret: 'secret', ...client }),
      appId: 'wxadmintest',
    },
    wecom: { client: new WecomClient({ baseUrl: unreachable, corpId: 'wwadmintest', secret: 'secret', ...client }), corpId: 'wwadmintest' },
    logger,
  });
  const tagRules = new TagRulesService({ dataSource, clock, audit, transactor });
  const tagCatalog = new TagCatalogService({ dataSource, clock, audit, transactor, tagSync, onRulesChanged: () => undefined });
  const failedWork = new FailedWorkService({
    dataSource,
    transactor,
    audit,
    sources: createFailedWorkSources({
      tasks: queue.leases,
      reactions: new LeaseQueue({ dataSource, clock, holder: 'admin-test', table: 'reaction_work' }),
    }),
  });
  const contactTags = new ContactTagsService({ clock, tagSync });
  const rules = new TagRulesEngine({ dataSource, contactTags, clock });
  // Small chunks, so a handful of test contacts spans several chunks of a bulk job.
  const manualTagging = new ManualTaggingService({
    dataSource,
    transactor,
    contactTags,
    audit,
    queue,
    contactsQuery,
    logger,
    chunkSize: 2,
  });
  const stats = new StatsService({ dataSource, clock, timezone: 'Asia/Shanghai' });
  const statCounters = new StatCountersService({ dataSource, transactor, clock });
  const contacts = new ContactsService({ clock });
  const interactions = new InteractionsService({ clock, contacts });
  const auth = createAuth(operators);

  const app = new Koa({ proxy: options.trustProxy ?? false });
  app.silent = true;
  app.use(createErrorMiddleware(logger));
  const routers = [
    createAdminAuthRouter({ operators, auth }),
    createAdminConfigRouter({ pageConfig: options.pageConfig ?? { sandbox: true, timezone: 'Asia/Shanghai', locale: 'zh-CN' }, auth }),
    createAdminContactsRouter({
      contactsQuery,
      timeline: new TimelineService({ dataSource, contactsQuery }),
      manualTagging,
      contactNotes: new ContactNotesService({ transactor, audit, contactsQuery, clock }),
      audit,
      auth,
    }),
    createAdminTagsRouter({ tagCatalog, tagRules, rules, auth }),
    createAdminStatsRouter({ stats, auth }),
    createAdminOperatorsRouter({ operators, audit, auth }),
    createAdminFailedWorkRouter({ failedWork, auth }),
  ];
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());

  return {
    server: http.createServer(app.callback()),
    clock,
    audit,
    operators,
    contactsQuery,
    tagCatalog,
    tagRules,
    queue,
    failedWork,
    manualTagging,
    contactTags,
    contacts,
    interactions,
    transactor,
    statCounters,
    async signIn(params) {
      const password = params.password ?? `${params.username}-password`;
      const created = await operators.createOperator({
        username: params.username,
        password,
        role: params.role,
        wecomUserId: params.wecomUserId ?? null,
        actor: { operatorId: null, ip: null },
      });
      if (!created.ok) throw new Error(`could not create operator ${params.username}: ${created.reason}`);
      const login = await operators.login({ username: params.username, password, ip: '127.0.0.1' });
      if (!login.ok) throw new Error(`could not sign in ${params.username}: ${login.reason}`);
      return login.token;
    },
  };
}
