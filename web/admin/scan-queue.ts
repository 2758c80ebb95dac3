/**
 * The check-in scanner's queue. A gate with bad signal must not lose a scan nor count one twice:
 * every scan is written to the phone's storage with its own nonce before it is sent, and stays
 * there until the server has answered it. A retry carries the same nonce, so the server answers
 * the first result again instead of checking in twice (POST /api/admin/events/:id/checkins).
 *
 * Only an answer ends a scan: 2xx (checked in) and 4xx (refused, with its reason code). No answer
 * (the network is down: fetch throws) and 5xx (the server is restarting) keep it queued, in scan
 * order, for the next flush (when the browser says it is online again, or on a timer).
 */

export interface PendingScan {
  token: string;
  gate: string;
  nonce: string;
  /** When the staff member scanned it (the server records its own time of the check-in). */
  scannedAt: string;
}

/** What the server said about one scan. */
export type ScanAnswer =
  | { kind: 'checked_in'; registrationId: number; name?: string; benefit?: { kind: string; description: string } | null }
  | { kind: 'refused'; code: string; details?: Record<string, unknown> };

export interface ScanResult {
  scan: PendingScan;
  answer: ScanAnswer;
}

/** Where the queue lives between page loads (localStorage in the page; a Map in tests). */
export interface ScanStore {
  load(): PendingScan[];
  save(scans: PendingScan[]): void;
}

/** Sends one scan; throws `ScanNotAnswered` when there was no answer to act on. */
export type SendScan = (scan: PendingScan) => Promise<ScanAnswer>;

export class ScanNotAnswered extends Error {}

export class ScanQueue {
  private flushing: Promise<ScanResult[]> | null = null;

  constructor(
    private readonly store: ScanStore,
    private readonly send: SendScan,
    private readonly newNonce: () => string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  pending(): PendingScan[] {
    return this.store.load();
  }

  /**
   * Queues a scan (stored before anything is sent) and flushes. A scan of the same token at the same
   * gate already waiting is not queued twice: the hardware scanner often types a code twice.
   */
  async scan(token: string, gate: string): Promise<ScanResult[]> {
    const trimmed = token.trim();
    if (trimmed === '') return [];
    const queued = this.store.load();
    if (!queued.some((scan) => scan.token === trimmed && scan.gate === gate)) {
      queued.push({ token: trimmed, gate, nonce: this.newNonce(), scannedAt: this.now().toISOString() });
      this.store.save(queued);
    }
    return this.flush();
  }

  /** Sends the queued scans in order until one gets no answer; one flush at a time. */
  flush(): Promise<ScanResult[]> {
    if (!this.flushing) this.flushing = this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<ScanResult[]> {
    const results: ScanResult[] = [];
    for (;;) {
      const [next] = this.store.load();
      if (!next) return results;
      let answer: ScanAnswer;
      try {
        answer = await this.send(next);
      } catch (caught) {
        if (caught instanceof ScanNotAnswered) return results;
        throw caught;
      }
      // Removed by nonce, not by position: the page may have queued more while this one was out.
      this.store.save(this.store.load().filter((scan) => scan.nonce !== next.nonce));
      results.push({ scan: next, answer });
    }
  }
}

/** The queue's storage in the browser: one key per event, so two events' gates never mix. */
export function localScanStore(
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void },
  eventId: number,
): ScanStore {
  const key = `fw-scans-${eventId}`;
  return {
    load() {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]');
        return Array.isArray(parsed) ? (parsed as PendingScan[]) : [];
      } catch {
        return [];
      }
    },
    save(scans) {
      storage.setItem(key, JSON.stringify(scans));
    },
  };
}

/**
 * A scan's nonce: 128 random bits as hex. Not crypto.randomUUID, which browsers give only to
 * secure contexts (HTTPS or localhost): a gate's phone opening the admin page over a venue's LAN
 * address on plain http would never scan. crypto.getRandomValues is there in every context.
 */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
