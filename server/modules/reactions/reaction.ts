import type { EntityManager } from 'typeorm';
import type { Interaction, InteractionDirection } from '../../../entities/interaction.entity';

/**
 * A reaction: one thing Flywheel does after an interaction is on the timeline (fetch the
 * platform profile, link identities, record the source channel, apply tag rules, score ...).
 * Reactions are registered in order in compose.ts and run by the reactions worker from the
 * interaction's durable work row, so they run once the interaction has committed, whichever
 * channel wrote it, and again after a crash. Everything a reaction writes must be idempotent.
 *
 * This is the form the worker runs, and it knows nothing of what a reaction keeps: a reaction
 * without state of its own returns its write as a closure; one that gathers the batch's rows for
 * set-based statements at the end (the stage, the scores) is written as a `StatefulReaction` and
 * registered through `defineReaction`, which keeps its state per try of the batch's transaction.
 */
export interface Reaction {
  readonly name: string;
  /** The interactions it is given; every inbound one when left out. */
  readonly handles?: ReactionInterest;
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
  /** Once per try of the batch's transaction, after every row's writes: set-based statements. */
  finish?(manager: EntityManager, batch: ReactionBatch): Promise<void>;
}

/**
 * Which interactions a reaction is given, and so which ones need a work row at all: an outbound
 * interaction (a send, its delivery) gets one only when a registered reaction asks for its type,
 * so a broadcast to 100,000 contacts does not write 100,000 rows nobody reads.
 */
export interface ReactionInterest {
  /** Default: inbound only. */
  readonly directions?: readonly InteractionDirection[];
  /** Default: every type. */
  readonly types?: readonly string[];
}

/** Whether a reaction is given an interaction of this type and direction. */
export function handles(reaction: Pick<Reaction, 'handles'>, type: string, direction: InteractionDirection): boolean {
  const interest = reaction.handles;
  const directions = interest?.directions ?? ['in'];
  return directions.includes(direction) && (interest?.types === undefined || interest.types.includes(type));
}

/** Whether any of these reactions is given such an interaction: if none is, it needs no work row. */
export function reactionsWant(reactions: readonly Pick<Reaction, 'handles'>[]): (type: string, direction: InteractionDirection) => boolean {
  return (type, direction) => reactions.some((r) => handles(r, type, direction));
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

/**
 * What the rows of one try of a batch share inside its transaction: the merges. A new one for
 * every try, so a try after a rollback starts from the database, not from what the last one left.
 */
export class ReactionBatch {
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

  /** Each id's survivor, once each (for a reaction's set-based statements at the end). */
  survivors(ids: Iterable<number>): number[] {
    return [...new Set([...ids].map((id) => this.survivorOf(id) ?? id))];
  }
}

/**
 * A reaction that owns state for the batch: what `prepare` found outside the transaction
 * (`Prepared`), and what its writes gather for the batch's end (`State`, made new for each try of
 * the transaction, so a retried batch rebuilds it from the database and the prepared rows alone).
 * Only this reaction sees either; the worker runs it through `defineReaction`.
 */
export type StatefulReaction<Prepared, State = undefined> = StatefulReactionSteps<Prepared, State> &
  (undefined extends State ? { createState?(): State } : { createState(): State });

interface StatefulReactionSteps<Prepared, State> {
  readonly name: string;
  readonly handles?: ReactionInterest;
  /** As `Reaction.prepare`: outside any transaction; null when there is nothing to do. */
  prepare(interaction: Interaction): Promise<Prepared | null>;
  /** As `Reaction.prepareBatch`. */
  prepareBatch?(interactions: Interaction[]): Promise<Map<number, Prepared | null>>;
  /** One row's writes, inside the batch's transaction. */
  write(manager: EntityManager, row: ReactionRow, prepared: Prepared, state: State, batch: ReactionBatch): Promise<void>;
  /** Once per try, after every row's writes, with what they gathered. */
  finish?(manager: EntityManager, state: State, batch: ReactionBatch): Promise<void>;
}

/** A stateful reaction in the form the worker runs: its state is kept per try (per ReactionBatch). */
export function defineReaction<Prepared, State = undefined>(reaction: StatefulReaction<Prepared, State>): Reaction {
  const states = new WeakMap<ReactionBatch, { state: State }>();
  const stateOf = (batch: ReactionBatch): State => {
    let held = states.get(batch);
    if (!held) {
      // Without createState, State admits undefined (StatefulReaction's type says so).
      held = { state: reaction.createState ? reaction.createState() : (undefined as State) };
      states.set(batch, held);
    }
    return held.state;
  };
  const writeOf =
    (prepared: Prepared): ReactionWrite =>
    (m, row, batch) =>
      reaction.write(m, row, prepared, stateOf(batch), batch);
  const prepareBatch = reaction.prepareBatch?.bind(reaction);
  const finish = reaction.finish?.bind(reaction);
  return {
    name: reaction.name,
    handles: reaction.handles,
    async prepare(interaction) {
      const prepared = await reaction.prepare(interaction);
      return prepared === null ? null : writeOf(prepared);
    },
    prepareBatch: prepareBatch
      ? async (interactions) => {
          const writes = new Map<number, ReactionWrite | null>();
          for (const [id, prepared] of await prepareBatch(interactions)) writes.set(id, prepared === null ? null : writeOf(prepared));
          return writes;
        }
      : undefined,
    finish: finish ? (m, batch) => finish(m, stateOf(batch), batch) : undefined,
  };
}
