import { materialTargets, withMaterialLink, type JourneyDefinitionView } from '../../../web/admin/journeys';

/** The journey editor's material picker: which send nodes take a material, and its link put into one. */
describe("the journey editor's content centre picker", () => {
  const definition: JourneyDefinitionView = {
    entry: { kind: 'manual' },
    start: 'push',
    nodes: [
      { id: 'push', type: 'send', channel: 'oa_template', templateId: 'T', next: 'mp' },
      { id: 'mp', type: 'send', channel: 'mp_subscribe', templateId: 'M', next: 'wait' },
      { id: 'wait', type: 'wait', mode: 'duration', seconds: 60, next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
  const link = 'https://flywheel.example/c/Ab3dEf6hIj9k';

  it('offers the send nodes whose message carries a web link', () => {
    expect(materialTargets(definition)).toEqual(['push']);
    expect(materialTargets(null)).toEqual([]);
  });

  it("sets the node's url to the material's link, leaving the rest as it was", () => {
    const next = withMaterialLink(JSON.stringify(definition), 'push', link);
    expect(next).not.toBeNull();
    const parsed = JSON.parse(next ?? '') as JourneyDefinitionView;
    expect(parsed.nodes[0]).toEqual({ ...definition.nodes[0], url: link });
    expect(parsed.nodes.slice(1)).toEqual(definition.nodes.slice(1));
  });

  it('refuses a draft that does not parse, an unknown node and a mini-program subscribe node', () => {
    expect(withMaterialLink('{"nodes": [', 'push', link)).toBeNull();
    expect(withMaterialLink(JSON.stringify(definition), 'nope', link)).toBeNull();
    expect(withMaterialLink(JSON.stringify(definition), 'mp', link)).toBeNull();
    expect(withMaterialLink(JSON.stringify(definition), 'wait', link)).toBeNull();
  });
});
