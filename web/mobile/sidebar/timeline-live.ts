/**
 * The timeline kept live without a 同步 button: every ~10 s, while the page is visible, ask what
 * is new since the cursor (GET …/timeline?after=) and put it on top. Hidden (the rep switched
 * chats or minimised WeCom), it stops asking; shown again, it asks at once.
 */
import type { TimelineItem } from '@shared/types';

export const POLL_MS = 10_000;

export interface LivePollerParams {
  after: string;
  read: (after: string) => Promise<{ items: TimelineItem[]; after: string; more?: boolean }>;
  onItems: (items: TimelineItem[]) => void;
  onError: (error: unknown) => void;
}

/** New items on top, newest first; an item already shown (same kind and id) is not shown twice. */
export function mergeNewest(shown: readonly TimelineItem[], fresh: readonly TimelineItem[]): TimelineItem[] {
  const seen = new Set(shown.map((item) => `${item.kind}:${item.id}`));
  const added = fresh.filter((item) => !seen.has(`${item.kind}:${item.id}`));
  if (added.length === 0) return [...shown];
  return [...added, ...shown].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

export function livePoller(params: LivePollerParams): { now: () => Promise<void>; stop: () => void } {
  let after = params.after;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const schedule = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = stopped || document.visibilityState !== 'visible' ? null : setTimeout(() => void poll(), POLL_MS);
  };

  async function readAll(): Promise<void> {
    // A burst larger than one page (`more`) is read through at once.
    for (let pages = 0; pages < 10; pages++) {
      const page = await params.read(after);
      after = page.after;
      if (page.items.length > 0) params.onItems(page.items);
      if (!page.more) return;
    }
  }

  function poll(): Promise<void> {
    running ??= readAll()
      .catch(params.onError)
      .finally(() => {
        running = null;
        schedule();
      });
    return running;
  }

  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') void poll();
    else if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();

  return {
    /** After the rep's own action: its result shows at once, not up to 10 s later. */
    now: async () => {
      if (running) await running;
      await poll();
    },
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
