import { materialCodeOf, withJourney } from '../../../server/modules/content/content-links';

describe("the content centre's links inside other messages", () => {
  const base = 'https://flywheel.example';

  it("reads a material's code from this server's tracked links only", () => {
    expect(materialCodeOf(`${base}/c/Ab3dEf6hIj9k`, base)).toBe('Ab3dEf6hIj9k');
    expect(materialCodeOf(`${base}/c/Ab3dEf6hIj9k?ch=4&ev=2`, base)).toBe('Ab3dEf6hIj9k');
    expect(materialCodeOf('https://other.example/c/Ab3dEf6hIj9k', base)).toBeNull();
    expect(materialCodeOf(`${base}/c/Ab3dEf6hIj9k/file`, base)).toBeNull();
    expect(materialCodeOf(`${base}/e/3`, base)).toBeNull();
    expect(materialCodeOf('not a url', base)).toBeNull();
    // Behind a path prefix.
    expect(materialCodeOf('https://x.example/app/c/abc', 'https://x.example/app/')).toBe('abc');
  });

  it('stamps a tracked link with the journey, keeping its channel and event, and leaves other URLs alone', () => {
    expect(withJourney(`${base}/c/Ab3dEf6hIj9k`, base, 7)).toBe(`${base}/c/Ab3dEf6hIj9k?jr=7`);
    expect(withJourney(`${base}/c/Ab3dEf6hIj9k?ch=4&jr=1`, base, 7)).toBe(`${base}/c/Ab3dEf6hIj9k?ch=4&jr=7`);
    expect(withJourney('https://example.com/offer', base, 7)).toBe('https://example.com/offer');
  });
});
