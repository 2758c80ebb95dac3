import type Router from '@koa/router';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.schema';
import type { Clock } from './adapters/clock';
import type { Logger } from './adapters/logger';
import { MiniProgramClient } from './adapters/miniprogram.client';
import { OfficialAccountClient } from './adapters/official-account.client';
import { createRateLimiter } from './adapters/rate-limiter';
import { TokenStore } from './adapters/token-store';
import { WecomAgentClient } from './adapters/wecom-agent.client';
import { WecomClient } from './adapters/wecom.client';
import { Transactor } from './db/transaction';
import { createAdminAuthRouter } from './http/admin-auth.routes';
import { createAdminContactsRouter } from './http/admin-contacts.routes';
import { createAdminOperatorsRouter } from './http/admin-operators.routes';
import { createAdminTagsRouter } from './http/admin-tags.routes';
import { createAuth } from './http/auth.middleware';
import { createCallbacksRouter } from './http/callbacks.routes';
import { DatabaseRunCoordinator } from './modules/job-runs/run-coordinator.service';
import type { JobDefinition } from './jobs/scheduler';
import { AuditService } from './modules/audit/audit.service';
import { CallbacksService } from './modules/callbacks/callbacks.service';
import { ContactsQueryService } from './modules/contacts/contacts-query.service';
import { ContactsService } from './modules/contacts/contacts.service';
import { InboxProcessor } from './modules/inbox/inbox-processor.service';
import { InboxService } from './modules/inbox/inbox.service';
import { OperatorsService } from './modules/operators/operators.service';
import { ScoringService } from './modules/scoring/scoring.service';
import { TagRulesEngine } from './modules/tag-rules/tag-rules.engine';
import { TagRulesService } from './modules/tag-rules/tag-rules.service';
import { TagSyncService } from './modules/tag-sync/tag-sync.service';
import { TagCatalogService } from './modules/tags/tag-catalog.service';
import { TagsService } from './modules/tags/tags.service';
import { TaskQueue } from './modules/tasks/task-queue.service';

export interface ComposeParams {
  config: Readonly<Config>;
  dataSource: DataSource;
  clock: Clock;
  logger: Logger;
  /** This instance's id, for leases. */
  holder: string;
  /** Where the adapters reach WeChat and WeCom (the sandbox's URLs in sandbox mode). */
  apiBases: { wechat: string; wecom: string };
  /** Shorter platform timeouts in tests. */
  platformTimeoutMs?: number;
}

export type Services = ReturnType<typeof composeServices>;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The one composition root: every adapter, repository and service is built here, with its
 * dependencies passed in. Tests call this with a test database, a manual clock and the sandbox.
 */
export function composeServices(p: ComposeParams) {
  const { config, dataSource, clock, logger, holder } = p;
  const transactor = new Transactor(dataSource);
  const coordinator = new DatabaseRunCoordinator({ dataSource, clock, holder, logger });

  const tokenStore = new TokenStore({ dataSource, clock, holder });
  const rateLimiter = createRateLimiter({ perSecond: 50, burst: 100 });
  const timeoutMs = p.platformTimeoutMs ?? 5_000;
  const officialAccount = new OfficialAccountClient({
    baseUrl: p.apiBases.wechat,
    appId: config.officialAccount.appId,
    secret: config.officialAccount.secret,
    tokenStore,
    rateLimiter,
    logger,
    timeoutMs,
  });
  const wecom = new WecomClient({ baseUrl: p.apiBases.wecom, corpId: config.wecom.corpId, secret: config.wecom.secret, tokenStore, rateLimiter, logger, timeoutMs });
  const wecomAgent = new WecomAgentClient({
    baseUrl: p.apiBases.wecom,
    corpId: config.wecom.corpId,
    agentId: config.wecom.agentId,
    agentSecret: config.wecom.agentSecret,
    tokenStore,
    rateLimiter,
    logger,
    timeoutMs,
  });
  const miniprogram = new MiniProgramClient({ baseUrl: p.apiBases.wechat, appId: config.miniprogram.appId, secret: config.miniprogram.secret, rateLimiter, logger, timeoutMs });

  const audit = new AuditService({ dataSource, clock });
  const operators = new OperatorsService({ dataSource, clock, logger, audit });
  const queue = new TaskQueue({ dataSource, clock, holder, logger });
  const tagSync = new TagSyncService({ dataSource, queue, officialAccount, wecom, oaAppId: config.officialAccount.appId, corpId: config.wecom.corpId, logger });
  const contacts = new ContactsService({ clock });
  const tags = new TagsService({ clock, tagSync });
  const scoring = new ScoringService({ clock });
  const rules = new TagRulesEngine({ dataSource, tags, clock });
  const inbox = new InboxService({ dataSource, transactor, contacts, clock, holder });
  const processor = new InboxProcessor({
    dataSource,
    transactor,
    inbox,
    contacts,
    tags,
    rules,
    scoring,
    officialAccount,
    wecom,
    clock,
    logger,
  });
  const callbacks = new CallbacksService({
    officialAccount: { appId: config.officialAccount.appId, token: config.officialAccount.token, aesKey: config.officialAccount.aesKey },
    wecom: { corpId: config.wecom.corpId, token: config.wecom.token, aesKey: config.wecom.aesKey },
    maxAgeSeconds: config.callbackMaxAgeSeconds,
    inbox,
    processor,
    rules,
    clock,
    logger,
  });
  const contactsQuery = new ContactsQueryService({ dataSource });
  const tagCatalog = new TagCatalogService({ dataSource, clock, audit, transactor, tagSync, onRulesChanged: () => rules.invalidate() });
  const tagRules = new TagRulesService({ dataSource, clock, audit, transactor, onRulesChanged: () => rules.invalidate() });
  const auth = createAuth(operators);

  const routers: Router[] = [
    createCallbacksRouter({ callbacks }),
    createAdminAuthRouter({ operators, auth }),
    createAdminContactsRouter({ contactsQuery, auth }),
    createAdminTagsRouter({ tagCatalog, tagRules, auth }),
    createAdminOperatorsRouter({ operators, audit, auth }),
  ];

  /** Every scheduled job; node-cron with the database coordinator runs each fire once. */
  const jobs: JobDefinition[] = [
    { name: 'inbox-replay', schedule: '*/15 * * * * *', run: async () => void (await processor.processDue()) },
    { name: 'tag-sync', schedule: '*/10 * * * * *', run: async () => void (await queue.runOnce({ handlers: tagSync.handlers() })) },
    {
      name: 'housekeeping',
      schedule: '17 3 * * *',
      run: async () => {
        // Dedupe keys stay on the interactions for good; inbox rows go after 7 days at least.
        await inbox.pruneProcessed(new Date(clock.now().getTime() - 8 * DAY_MS));
        await queue.pruneDone(new Date(clock.now().getTime() - 8 * DAY_MS));
        await coordinator.pruneRuns(new Date(clock.now().getTime() - 2 * DAY_MS));
        await operators.pruneExpiredSessions(clock.now());
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
    tags,
    scoring,
    rules,
    inbox,
    processor,
    callbacks,
    contactsQuery,
    tagCatalog,
    tagRules,
    routers,
    jobs,
    coordinator,
  };
}
