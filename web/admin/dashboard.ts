import type { Stats } from '../shared/types';

/** Rows of (day, key, count) as one series per key over every day (missing days are 0). */
export function seriesByDay<R extends { day: string; count: number }>(
  days: string[],
  rows: R[],
  keyOf: (row: R) => string,
): { name: string; data: number[] }[] {
  const index = new Map(days.map((day, i) => [day, i]));
  const series = new Map<string, number[]>();
  for (const row of rows) {
    const i = index.get(row.day);
    if (i === undefined) continue;
    const key = keyOf(row);
    let data = series.get(key);
    if (!data) series.set(key, (data = days.map(() => 0)));
    data[i] += row.count;
  }
  return [...series.entries()].map(([name, data]) => ({ name, data }));
}

export function isEmptyStats(stats: Stats): boolean {
  return (
    stats.newContacts.length === 0 &&
    stats.interactions.length === 0 &&
    stats.funnel.every((f) => f.count === 0) &&
    stats.topTags.length === 0 &&
    stats.activity.active + stats.activity.silent === 0
  );
}

/** Element Plus's palette first, then distinguishable extras; cycles past the end. */
const PALETTE = ['#409eff', '#67c23a', '#e6a23c', '#f56c6c', '#909399', '#9b59b6', '#1abc9c', '#d35400'];

export function chartColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/**
 * Stages are cumulative (everyone activated was acquired first): the contacts that reached each
 * stage are those in it and in every later one. Drawn so, a later stage never outgrows an earlier
 * one (no bow tie when 13 are activated and 6 still only acquired).
 */
export function cumulativeFunnel(funnel: Stats['funnel']): { stage: string; reached: number; current: number }[] {
  return funnel.map((row, i) => ({
    stage: row.stage,
    reached: funnel.slice(i).reduce((sum, later) => sum + later.count, 0),
    current: row.count,
  }));
}

/**
 * A first source as a person reads it: a QR scene or contact-way state is the operator's own
 * name for it; the platforms themselves (when no scene was given) get their label.
 */
export function sourceLabel(source: string | null, t: (key: string) => string): string {
  if (source === null) return t('dashboard.unknownSource');
  if (source === 'oa' || source === 'wecom') return t(`dashboard.sourcePlatform.${source}`);
  return source;
}

/** The change from the period before, for the headline: null when that period is unknown. */
export function changeOf(figure: { value: number; previous: number | null }): number | null {
  return figure.previous === null ? null : figure.value - figure.previous;
}
