import type { EntityManager } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';

/**
 * What journeys ask of modules built beside them: segments (h-segments) and sales assignment and
 * lifecycle stages (h-scoring). compose.ts passes these in; until the integrator wires the real
 * services, the defaults below answer (no segment has members; the stage is set directly; sales
 * assignment is logged as not done).
 */
export interface SegmentsPort {
  /** Which of these contacts are in the segment now (one query: the segments compiler's membership). */
  isInSegment(manager: EntityManager, contactIds: number[], segmentId: number): Promise<Set<number>>;
  /** A page of the segment's members in id order, after `afterId` (a scheduled entry walks them). */
  listMembers(segmentId: number, afterId: number, limit: number): Promise<number[]>;
}

export interface SalesPort {
  /**
   * Moves the contacts to the stage, in the step's transaction (with the stage's history, whose
   * actor is the journey that moved them: the timeline names it).
   */
  setStage(manager: EntityManager, contactIds: number[], stage: LifecycleStage, journey: JourneyRef): Promise<void>;
  /** Assigns each contact to a sales rep (its WeCom follower, else round-robin), in the step's transaction. */
  assignToSales(manager: EntityManager, contactIds: number[], cause: string): Promise<void>;
}

/** The journey an action node belongs to, as the history names it. */
export interface JourneyRef {
  id: number;
  name: string;
}

export const NO_SEGMENTS: SegmentsPort = {
  isInSegment: () => Promise.resolve(new Set<number>()),
  listMembers: () => Promise.resolve([]),
};

/** Until the scoring helper's services are wired: the stage column directly, no assignment. */
export const DIRECT_STAGE_NO_ASSIGNMENT: SalesPort = {
  async setStage(manager, contactIds, stage) {
    if (contactIds.length === 0) return;
    await manager.query(`UPDATE contacts SET stage = ? WHERE id IN (${contactIds.map(() => '?').join(',')})`, [stage, ...contactIds]);
  },
  assignToSales: () => Promise.resolve(),
};
