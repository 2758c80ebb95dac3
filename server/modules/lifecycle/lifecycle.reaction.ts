import type { EntityManager } from 'typeorm';
import { LIFECYCLE_STAGES } from '../../../entities/contact.entity';
import type { StageRule } from '../../../entities/stage-rule.entity';
import { defineReaction, type Reaction } from '../reactions/reaction';
import type { LifecycleService, StageMove } from './lifecycle.service';

/**
 * Stage rules at work: an inbound interaction whose type a rule names, once the contact has done
 * it `minCount` times, moves the contact forward to the rule's stage. The moves are gathered and
 * written at the batch's end (LifecycleService.moveStages: locked rows, history, funnel counters),
 * on the contacts as they are after the batch's merges.
 */
export function createLifecycleReaction(deps: { lifecycle: LifecycleService }): Reaction {
  return defineReaction<StageRule[], StageMove[]>({
    name: 'lifecycle',
    async prepare(interaction) {
      const rules = (await deps.lifecycle.loadStageRules()).filter((r) => r.interactionType === interaction.type);
      return rules.length > 0 ? rules : null;
    },
    createState: () => [],
    async write(m, row, rules, moves) {
      if (row.contactId === null) return;
      // The furthest stage first: once one rule holds, the nearer ones add nothing.
      const ordered = [...rules].sort((a, b) => LIFECYCLE_STAGES.indexOf(b.stage) - LIFECYCLE_STAGES.indexOf(a.stage));
      for (const rule of ordered) {
        if (rule.minCount > 1 && (await countInbound(m, row.contactId, rule.interactionType, rule.minCount)) < rule.minCount) continue;
        moves.push({
          contactId: row.contactId,
          stage: rule.stage,
          actor: { kind: 'rule', id: rule.id, name: `${rule.interactionType}×${rule.minCount}` },
          interactionId: row.interaction.id,
        });
        return;
      }
    },
    async finish(m, moves, batch) {
      await deps.lifecycle.moveStages(
        m,
        moves.map((move) => ({ ...move, contactId: batch.survivorOf(move.contactId) ?? move.contactId })),
        { forwardOnly: true },
      );
    },
  });
}

/** How many inbound interactions of a type the contact has, counted up to `atMost` (the rule's count). */
async function countInbound(manager: EntityManager, contactId: number, type: string, atMost: number): Promise<number> {
  const [{ n }]: { n: number | string }[] = await manager.query(
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM interactions WHERE contact_id = ? AND type = ? AND direction = 'in' LIMIT ${Math.floor(atMost)}) t`,
    [contactId, type],
  );
  return Number(n);
}
