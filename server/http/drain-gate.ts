/**
 * Whether this process still takes callbacks, and the callback requests it let in. At shutdown the
 * gate closes first (new callbacks answer 503 at once, /readyz answers 503), then the drain waits
 * for the requests already inside to be answered: each was stored or answered 5xx, so WeChat
 * retries nothing that was lost. One gate per process, built by the composition root.
 */
export class DrainGate {
  private closed = false;
  private inside = 0;
  private waiters: (() => void)[] = [];

  get draining(): boolean {
    return this.closed;
  }

  /** Callback requests let in and not answered yet. */
  get inFlight(): number {
    return this.inside;
  }

  /** Runs `work` unless the gate is closed (then answers null at once, without running it). */
  async pass<T>(work: () => Promise<T>): Promise<T | null> {
    if (this.closed) return null;
    this.inside += 1;
    try {
      return await work();
    } finally {
      this.inside -= 1;
      if (this.inside === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Resolves once no request that got through is still running. */
  async idle(): Promise<void> {
    if (this.inside === 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
