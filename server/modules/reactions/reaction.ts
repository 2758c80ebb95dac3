import type { EntityManager } from 'typeorm';
import type { Interaction } from '../../../entities/interaction.entity';
import type { AddPointsParams } from '../scoring/scoring.service';

/**
 * A reaction: one thing Flywheel does after an interaction is on the timeline (fetch the
 * platform profile, link identities, record the source channel, apply tag rules, score ...).
 * Reactions are registered in order in compose.ts and run by the reactions worker from the
 * interaction's durable work row, so they run once the interaction has committed, whichever
 * channel wrote it, and again after a crash. Everything a reaction writes must be idempotent.
 */
export interface Reaction {
  readonly name: string;
  /**
   * Runs outside any transaction, for platform lookups. Returns the writes to make for this
   * interaction, or null when the reaction has nothing to do with it. A transient failure thrown
   * here retries the whole interaction later; a permanent one should be handled here.
   */
  prepare(interaction: Interaction): Promise<ReactionWrite | null>;
  /**
   * Optional: prepares the whole batch at once (one platform call for many interactions, e.g.
   * user/info/batchget for 100 new followers). Returns a write (or null) per interaction id it
   * handled; interactions it leaves out, and the whole batch if it throws, go through `prepare`
   * one by one, so a failure still fails only the rows it belongs to.
   */
  prepareBatch?(interactions: Interaction[]): Promise<Map<number, ReactionWrite | null>>;
  /** Once per batch, after every row's writes: set-based statements (stages, scores). */
  finish?(manager: EntityManager, batch: ReactionBatch): Promise<void>;
}

/** The writes of one reaction for one interaction, inside the batch's transaction. */
export type ReactionWrite = (manager: EntityManager, row: ReactionRow, batch: ReactionBatch) => Promise<void>;

/** One interaction being reacted to. */
export interface ReactionRow {
  readonly interaction: Interaction;
  /**
   * Its contact now: the interaction's contact followed through merges. A reaction that merges
   * contacts sets it to the survivor (and reports the merge to the batch), so the reactions after
   * it, and later rows of the batch, act on the survivor.
   */
  contactId: number | null;
}

/** What the rows of one batch share inside its transaction. */
export class ReactionBatch {
  /** Contacts to move to `activated`, in one statement at the end. */
  readonly activated = new Set<number>();
  /** Rule points, scored in bulk at the end. */
  readonly points: AddPointsParams[] = [];
  /** Each contact's newest interaction in the batch, moved onto contacts in one statement at the end. */
  readonly latestInteraction = new Map<number, Date>();
  private readonly mergedInto = new Map<number, number>();

  /** A merge made by a row of this batch: later rows of the merged contact act on the survivor. */
  recordMerge(mergedId: number, survivorId: number): void {
    if (mergedId !== survivorId) this.mergedInto.set(mergedId, survivorId);
  }

  survivorOf(contactId: number | null): number | null {
    let id = contactId;
    for (let hops = 0; id !== null && this.mergedInto.has(id) && hops < 16; hops += 1) id = this.mergedInto.get(id) ?? id;
    return id;
  }
}
