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
    stats.activity.active + stats.activity.silent === 0
  );
}
