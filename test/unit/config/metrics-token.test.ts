import { loadConfig } from '../../../config/config.schema';

describe('METRICS_TOKEN', () => {
  it('is none by default: /metrics then answers loopback clients only', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: '' }).metricsToken).toBeNull();
  });

  it('is kept as given when it has 16 characters at least', () => {
    expect(loadConfig({ METRICS_TOKEN: 'scrape-me-0123456' }).metricsToken).toBe('scrape-me-0123456');
  });

  it('refuses a short one, naming the variable: nothing throttles guesses at /metrics', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
  });
});
