import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work belongs to, carried through every `await` by AsyncLocalStorage: the
 * first middleware opens it, and the logger adds its id to every line written inside it, whatever
 * module writes the line (routes, services, platform calls), without passing it down by hand.
 */
export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The id of the request this code runs for; undefined outside a request (jobs, start-up). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/**
 * Runs `work` outside any request, for work a request only schedules and that then serves many
 * (a group commit, a reactions pass): lines it logs would otherwise carry the id of whichever
 * request happened to start it.
 */
export function runOutsideRequest<T>(work: () => T): T {
  return storage.exit(work);
}
