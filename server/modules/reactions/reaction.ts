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

/** One interaction being reacted to, as one write of one try of the batch's transaction sees it. */
export interface ReactionRow {
  readonly interaction: Interaction;
  /**
   * Its contact now: the interaction's contact followed through merges, read under a lock inside
   * this try, and through the merges this batch made so far. A reaction that merges contacts
   * reports it with `batch.recordMerge`; the writes after it, and later rows, then get the survivor.
   */
  readonly contactId: number | null;
}

/** What the rows of one try of a batch share inside its transaction; a new one for every try. */
export class ReactionBatch {
  /** Contacts to move to `activated`, in one statement at the end. */
  readonly activated = new Set<number>();
  /** Rule points, scored in bulk at the end. */
  readonly points: AddPointsParams[] = [];
  /** Each contact's newest interaction in the batch, moved onto contacts in one statement at the end. */
  readonly latestInteraction = new Map<number, Date>();
  private readonly mergedInto = new Map<number, number>();

  /** A contact that lives on in another: merged before the batch (read under lock) or by one of its rows. */
  recordMerge(mergedId: number, survivorId: number): void {
    if (mergedId !== survivorId) this.mergedInto.set(mergedId, survivorId);
  }

  survivorOf(contactId: number | null): number | null {
    let id = contactId;
    for (let hops = 0; id !== null && this.mergedInto.has(id) && hops < 16; hops += 1) id = this.mergedInto.get(id) ?? id;
    return id;
  }
}
