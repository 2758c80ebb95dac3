/**
 * The 旅程 screens' model: the journeys API's shapes (server/modules/journeys, DESIGN's "Journeys
 * and delivery") and the graph drawn from a definition. Types only from the API: the page does
 * not bundle the server's zod schemas; the server validates and names each refused field.
 */

export type JourneyStatus = 'draft' | 'active' | 'paused' | 'archived';

export interface JourneyView {
  id: number;
  name: string;
  status: JourneyStatus;
  template: string | null;
  publishedVersion: number | null;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface JourneyNodeDef {
  id: string;
  type: string;
  position?: { x: number; y: number };
  next?: string;
  then?: string;
  else?: string;
  opened?: string;
  timeout?: string;
  branches?: { weight: number; next: string }[];
  channel?: string;
  mode?: string;
  seconds?: number;
  timeoutSeconds?: number;
  time?: string;
  actions?: { kind: string }[];
  [key: string]: unknown;
}

export interface JourneyDefinitionView {
  entry: { kind: string };
  start: string;
  nodes: JourneyNodeDef[];
  [key: string]: unknown;
}

export interface JourneyDetail extends JourneyView {
  versions: { version: number; publishedAt: string | null; createdAt: string; definition: JourneyDefinitionView }[];
}

export interface NodeStats {
  id: string;
  type: string;
  entered: number;
  waiting: number;
  completed: number;
  sent: number;
  delivered: number;
  opened: number;
  converted: number;
  exited: number;
}

export interface JourneyStats {
  nodes: NodeStats[];
  totals: { entered: number; sent: number; delivered: number; opened: number; converted: number; exited: number };
}

/** A blank journey: one exit node, entered by operators' enrolment; the JSON editor takes it from there. */
export const BLANK_DEFINITION = {
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'done',
  goal: null,
  nodes: [{ id: 'done', type: 'exit' }],
} as const;

export const TOTAL_KEYS = ['entered', 'sent', 'delivered', 'opened', 'converted', 'exited'] as const;

/** An edge of the graph: from a node to the one it leads to, labelled by the field that says so. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** `next`, `then`, `else`, `opened`, `timeout` or `branch` (with its weight). */
  kind: string;
  weight?: number;
}

export function edgesOf(definition: JourneyDefinitionView): GraphEdge[] {
  const known = new Set(definition.nodes.map((n) => n.id));
  const edges: GraphEdge[] = [];
  const add = (source: string, target: string | undefined, kind: string, weight?: number) => {
    if (target === undefined || !known.has(target)) return;
    edges.push({ id: `${source}-${kind}-${target}-${edges.length}`, source, target, kind, ...(weight === undefined ? {} : { weight }) });
  };
  for (const node of definition.nodes) {
    for (const kind of ['next', 'then', 'else', 'opened', 'timeout'] as const) {
      const target = node[kind];
      add(node.id, typeof target === 'string' ? target : undefined, kind);
    }
    for (const branch of node.branches ?? []) add(node.id, branch.next, 'branch', branch.weight);
  }
  return edges;
}

const COLUMN = 260;
const ROW = 130;

/**
 * Where each node is drawn: its own `position` when the definition has one, else a layered layout
 * (its depth from the start node down, siblings side by side), so a hand-written definition draws too.
 */
export function positionsOf(definition: JourneyDefinitionView): Map<string, { x: number; y: number }> {
  const out = new Map<string, { x: number; y: number }>();
  const depth = new Map<string, number>();
  const edges = edgesOf(definition);
  const queue = [definition.start];
  depth.set(definition.start, 0);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const edge of edges)
      if (edge.source === id && !depth.has(edge.target)) {
        depth.set(edge.target, (depth.get(id) ?? 0) + 1);
        queue.push(edge.target);
      }
  }
  const perRow = new Map<number, number>();
  const deepest = Math.max(0, ...depth.values());
  for (const node of definition.nodes) {
    if (node.position) {
      out.set(node.id, { x: node.position.x, y: node.position.y });
      continue;
    }
    const row = depth.get(node.id) ?? deepest + 1;
    const column = perRow.get(row) ?? 0;
    perRow.set(row, column + 1);
    out.set(node.id, { x: column * COLUMN, y: row * ROW });
  }
  return out;
}

/** The id of the node a refused field belongs to (`definition.nodes.3.next` → the fourth node's id), or null. */
export function nodeOfIssuePath(path: string, definition: JourneyDefinitionView | null): string | null {
  const match = /(?:^|\.)nodes\.(\d+)(?:\.|$)/.exec(path);
  if (!match || !definition) return null;
  return definition.nodes[Number(match[1])]?.id ?? null;
}

/** The field inside the node (`definition.nodes.3.actions.0.journey` → `actions.0.journey`), or the whole path. */
export function fieldOfIssuePath(path: string): string {
  const match = /(?:^|\.)nodes\.\d+\.(.+)$/.exec(path);
  return match ? match[1] : path.replace(/^definition\./, '');
}

/** Contact ids typed by hand: numbers separated by commas, spaces or lines; anything else is reported. */
export function parseContactIds(text: string): { ids: number[]; bad: string[] } {
  const ids: number[] = [];
  const bad: string[] = [];
  for (const part of text.split(/[\s,，、]+/).filter((p) => p !== '')) {
    if (/^[1-9]\d{0,9}$/.test(part)) ids.push(Number(part));
    else bad.push(part);
  }
  return { ids: [...new Set(ids)], bad };
}

/** Runs of a version waiting in one of its nodes (GET /api/admin/journeys/:id/waiting-runs). */
export interface WaitingRuns {
  version: number;
  nodeId: string;
  count: number;
}

/** One row of the "move customers in progress" dialog: an old node with waiting runs, and where they may go. */
export interface MigrationRow {
  nodeId: string;
  count: number;
  /** Wait nodes of the new version that accept these runs (the server checks again: journey-migration.ts). */
  targets: string[];
}

/** The older versions that have waiting runs, newest first (the versions a publish could move them from). */
export function olderVersionsWaiting(waiting: WaitingRuns[], latestVersion: number): number[] {
  return [...new Set(waiting.filter((w) => w.version < latestVersion && w.count > 0).map((w) => w.version))].sort((a, b) => b - a);
}

/**
 * The dialog's rows for moving `from`'s waiting runs onto `to`: a waiting run goes only to a wait
 * node, a wait for an open only to a wait for the same message's open. The suggestion is the node
 * of the same id when it is one of the targets, else the only target, else none.
 */
export function migrationRows(
  waiting: WaitingRuns[],
  fromVersion: number,
  from: JourneyDefinitionView,
  to: JourneyDefinitionView,
): { rows: MigrationRow[]; suggested: Record<string, string> } {
  const oldNodes = new Map(from.nodes.map((n) => [n.id, n]));
  const rows: MigrationRow[] = [];
  const suggested: Record<string, string> = {};
  for (const w of waiting) {
    if (w.version !== fromVersion || w.count === 0) continue;
    const before = oldNodes.get(w.nodeId);
    const opens = before?.mode === 'until_opened';
    const targets = to.nodes
      .filter((n) => n.type === 'wait' && (n.mode === 'until_opened') === opens && (!opens || n.node === before?.node))
      .map((n) => n.id);
    rows.push({ nodeId: w.nodeId, count: w.count, targets });
    const pick = targets.includes(w.nodeId) ? w.nodeId : targets.length === 1 ? targets[0] : '';
    if (pick) suggested[w.nodeId] = pick;
  }
  return { rows, suggested };
}

/**
 * Send nodes a content centre material can go into: every one whose message carries a web link
 * (a mini-program subscribe message opens a page of the mini-program and takes no `url`).
 */
export function materialTargets(definition: JourneyDefinitionView | null): string[] {
  return (definition?.nodes ?? []).filter((n) => n.type === 'send' && n.channel !== 'mp_subscribe').map((n) => n.id);
}

/**
 * The definition being edited with a material's tracked link as the `url` of send node `nodeId`
 * (the message's link: an Official Account template's url, the SMS link, a WeCom or
 * customer-service message's link). The link is the material's own (`/c/<code>`): the engine adds
 * the journey (`jr=`) when it sends, so a copied definition still credits the journey that sends
 * it. Null when the draft does not parse or has no such send node.
 */
export function withMaterialLink(draft: string, nodeId: string, url: string): string | null {
  let parsed: JourneyDefinitionView;
  try {
    parsed = JSON.parse(draft) as JourneyDefinitionView;
  } catch {
    return null;
  }
  if (!parsed || !Array.isArray(parsed.nodes) || !materialTargets(parsed).includes(nodeId)) return null;
  return JSON.stringify({ ...parsed, nodes: parsed.nodes.map((n) => (n.id === nodeId ? { ...n, url } : n)) }, null, 2);
}
