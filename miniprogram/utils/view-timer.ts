/**
 * How long a page was on screen, for the view reports (a card's, a material's): counted from each
 * show to the next hide or unload, so time spent in another app or page is not counted, and
 * reported once per stretch (onHide then onUnload does not report twice).
 */
export class ViewTimer {
  private shownAt: number | null = null;
  /** Seconds taken so far, over every stretch. */
  total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  show(): void {
    if (this.shownAt === null) this.shownAt = this.now();
  }

  /** Whole seconds since the last show, or null when already taken. */
  take(): number | null {
    if (this.shownAt === null) return null;
    const seconds = Math.max(0, Math.round((this.now() - this.shownAt) / 1000));
    this.shownAt = null;
    this.total += seconds;
    return seconds;
  }
}

const timers = new WeakMap<object, ViewTimer>();

/**
 * The timer of a page instance: a Component's `this` cannot carry a class instance in `data`
 * (it is copied to the view), so each page's timer is kept here, keyed by the instance.
 */
export function viewTimerOf(page: object): ViewTimer {
  let timer = timers.get(page);
  if (!timer) {
    timer = new ViewTimer();
    timers.set(page, timer);
  }
  return timer;
}
