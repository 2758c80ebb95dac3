/** What the two databases' errors mean, whichever driver reported them. */

interface DriverErrorFields {
  code?: unknown;
  errno?: unknown;
  driverError?: { code?: unknown; errno?: unknown };
}

function fieldsOf(error: unknown): { code: unknown; errno: unknown; message: string } | null {
  if (!(error instanceof Error)) return null;
  const f = error as Error & DriverErrorFields;
  return { code: f.code ?? f.driverError?.code, errno: f.errno ?? f.driverError?.errno, message: error.message };
}

/** SQLite and MySQL report a duplicate key differently; both mean "someone else has it". */
export function isUniqueViolation(error: unknown): boolean {
  const f = fieldsOf(error);
  if (!f) return false;
  return (
    f.code === 'ER_DUP_ENTRY' ||
    f.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    f.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    f.errno === 1062 ||
    /UNIQUE constraint failed|Duplicate entry/.test(f.message)
  );
}

/**
 * A transaction that lost a race and was rolled back whole, so running it again is safe and will
 * usually succeed: an InnoDB deadlock (1213) or lock wait timeout (1205), SQLite's busy writer.
 */
export function isTransientConflict(error: unknown): boolean {
  const f = fieldsOf(error);
  if (!f) return false;
  return (
    f.code === 'ER_LOCK_DEADLOCK' || f.code === 'ER_LOCK_WAIT_TIMEOUT' || f.errno === 1213 || f.errno === 1205 || f.code === 'SQLITE_BUSY'
  );
}
