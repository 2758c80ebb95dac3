import {
  ScanNotAnswered,
  ScanQueue,
  localScanStore,
  newNonce,
  type PendingScan,
  type ScanAnswer,
  type ScanStore,
} from '../../../web/admin/scan-queue';

function memoryStore(): ScanStore & { saved: PendingScan[] } {
  const store = {
    saved: [] as PendingScan[],
    load: () => store.saved.map((scan) => ({ ...scan })),
    save: (scans: PendingScan[]) => {
      store.saved = scans.map((scan) => ({ ...scan }));
    },
  };
  return store;
}

function counter(): () => string {
  let n = 0;
  return () => `nonce-${++n}`;
}

const checkedIn: ScanAnswer = { kind: 'checked_in', registrationId: 7 };

describe('the check-in scanner queue', () => {
  it('stores a scan before sending it, and forgets it once the server answered', async () => {
    const store = memoryStore();
    const seen: PendingScan[][] = [];
    const queue = new ScanQueue(
      store,
      () => {
        seen.push(store.load());
        return Promise.resolve(checkedIn);
      },
      counter(),
    );
    const results = await queue.scan(' T1 ', 'A');
    expect(seen).toEqual([[expect.objectContaining({ token: 'T1', gate: 'A', nonce: 'nonce-1' })]]);
    expect(results.map((result) => [result.scan.token, result.answer])).toEqual([['T1', checkedIn]]);
    expect(store.saved).toEqual([]);
  });

  it('keeps scans made offline, in order, and sends them with their first nonce when the network returns', async () => {
    const store = memoryStore();
    let online = false;
    const sent: PendingScan[] = [];
    const queue = new ScanQueue(
      store,
      (scan) => {
        sent.push(scan);
        if (!online) return Promise.reject(new ScanNotAnswered('offline'));
        return Promise.resolve<ScanAnswer>(scan.token === 'T2' ? { kind: 'refused', code: 'ticket_revoked' } : checkedIn);
      },
      counter(),
    );
    expect(await queue.scan('T1', 'A')).toEqual([]);
    expect(await queue.scan('T2', 'A')).toEqual([]);
    expect(queue.pending().map((scan) => [scan.token, scan.nonce])).toEqual([
      ['T1', 'nonce-1'],
      ['T2', 'nonce-2'],
    ]);
    online = true;
    const results = await queue.flush();
    expect(results.map((result) => [result.scan.token, result.scan.nonce, result.answer.kind])).toEqual([
      ['T1', 'nonce-1', 'checked_in'],
      ['T2', 'nonce-2', 'refused'],
    ]);
    // Every attempt at T1 carried the same nonce, so the server could answer a retry the same way.
    expect(new Set(sent.filter((scan) => scan.token === 'T1').map((scan) => scan.nonce))).toEqual(new Set(['nonce-1']));
    expect(queue.pending()).toEqual([]);
  });

  it('does not queue the same ticket twice at one gate while it waits (a scanner that types a code twice)', async () => {
    const store = memoryStore();
    const queue = new ScanQueue(store, () => Promise.reject(new ScanNotAnswered('offline')), counter());
    await queue.scan('T1', 'A');
    await queue.scan('T1', 'A');
    await queue.scan('T1', 'B');
    expect(queue.pending().map((scan) => `${scan.token}@${scan.gate}`)).toEqual(['T1@A', 'T1@B']);
  });

  it('runs one flush at a time: a scan during a flush is sent once, by the same flush', async () => {
    const store = memoryStore();
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new ScanQueue(
      store,
      async (scan) => {
        sent.push(scan.nonce);
        if (scan.token === 'T1') await gate;
        return checkedIn;
      },
      counter(),
    );
    const first = queue.scan('T1', 'A');
    const second = queue.scan('T2', 'A');
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(sent).toEqual(['nonce-1', 'nonce-2']);
    expect(a).toBe(b);
  });

  it('keeps the queue in the browser storage per event, and survives a corrupt entry', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (key: string) => data.get(key) ?? null, setItem: (key: string, value: string) => void data.set(key, value) };
    const one = localScanStore(storage, 1);
    one.save([{ token: 'T', gate: 'A', nonce: 'n', scannedAt: '2026-12-07T00:00:00.000Z' }]);
    expect(localScanStore(storage, 2).load()).toEqual([]);
    expect(localScanStore(storage, 1).load()).toHaveLength(1);
    data.set('fw-scans-1', '{not json');
    expect(one.load()).toEqual([]);
  });
});

describe('a scan nonce', () => {
  it('is 32 hex characters made without randomUUID (absent on plain http), new each time', () => {
    const randomUUID = jest.spyOn(crypto, 'randomUUID');
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(randomUUID).not.toHaveBeenCalled();
  });
});
