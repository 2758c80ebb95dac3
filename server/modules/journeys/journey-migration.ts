import type { DefinitionIssue, JourneyDefinition, JourneyNode } from './journey-definition';

/**
 * Moving the runs waiting in an older version onto the version being published: which old node's
 * runs go to which new node. Pure (no database): the service reads where runs wait and applies
 * the moves; this decides whether the mapping is allowed, with messages that name the node.
 */
export interface RunMigration {
  fromVersion: number;
  /** Old node id → new node id. */
  nodes: Record<string, string>;
}

/** Runs waiting in one node of the old version. */
export interface WaitingAt {
  nodeId: string;
  count: number;
}

/**
 * Checks a mapping against both definitions and where runs wait now. Every node of the old version
 * where runs wait must be mapped, and every mapped pair must be compatible:
 * - both are wait nodes: the engine resumes a waiting run by reading its node as a wait (anything
 *   else ends it as `node_removed`);
 * - an `until_opened` wait maps only to an `until_opened` wait on the same message node: the
 *   run's open is recorded, and its tracked link wakes it, under the message's node id.
 * A moved run keeps the time it is due (the old wait's deadline), then follows the new node's edges.
 */
export function checkRunMigration(p: {
  from: JourneyDefinition;
  fromVersion: number;
  to: JourneyDefinition;
  toVersion: number;
  mapping: Record<string, string>;
  waiting: WaitingAt[];
}): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const oldNodes = new Map(p.from.nodes.map((n) => [n.id, n]));
  const newNodes = new Map(p.to.nodes.map((n) => [n.id, n]));
  const at = (oldId: string) => `migrate.nodes.${oldId}`;
  for (const w of p.waiting) {
    if (w.count > 0 && p.mapping[w.nodeId] === undefined)
      issues.push({
        path: at(w.nodeId),
        code: 'journey_migration_unmapped',
        message: `node "${w.nodeId}" of version ${p.fromVersion} has ${w.count} waiting runs and no node of version ${p.toVersion} to move to`,
        params: { node: w.nodeId, count: w.count },
      });
  }
  for (const [oldId, newId] of Object.entries(p.mapping)) {
    const before = oldNodes.get(oldId);
    const after = newNodes.get(newId);
    if (!before) {
      issues.push({
        path: at(oldId),
        code: 'journey_unknown_node',
        message: `version ${p.fromVersion} has no node "${oldId}"`,
        params: { node: oldId },
      });
      continue;
    }
    if (!after) {
      issues.push({
        path: at(oldId),
        code: 'journey_unknown_node',
        message: `node "${oldId}" maps to "${newId}", which version ${p.toVersion} does not have`,
        params: { node: newId },
      });
      continue;
    }
    const why = incompatibility(before, after);
    if (why)
      issues.push({
        path: at(oldId),
        code: 'journey_migration_incompatible',
        message: `node "${oldId}" (${describe(before)}) cannot move to "${newId}" (${describe(after)}): ${why}`,
        params: { node: oldId, target: newId },
      });
  }
  return issues;
}

function incompatibility(before: JourneyNode, after: JourneyNode): string | null {
  if (before.type !== 'wait') return 'runs wait only in wait nodes';
  if (after.type !== 'wait') return 'a waiting run moves only to a wait node';
  const opens = (n: typeof before) => n.mode === 'until_opened';
  if (opens(before) !== opens(after)) return 'a wait for an open moves only to a wait for an open';
  if (opens(before) && before.node !== after.node) return `the runs wait for the message of "${before.node}", not of "${after.node}"`;
  return null;
}

function describe(node: JourneyNode): string {
  return node.type === 'wait' ? `wait, ${node.mode}` : node.type;
}
