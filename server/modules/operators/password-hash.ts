import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { OWASP_SCRYPT_N } from '../../../config/config.schema';

/**
 * Passwords are stored as `scrypt$N$r$p$saltB64$hashB64`; the parameters travel with the hash, so
 * they can change without invalidating stored passwords (a login with older ones rehashes).
 *
 * N=2^14, r=8, p=5: OWASP's password storage cheat sheet's minimum (N·p of at least 2^17, here
 * as five 16 MiB passes), about 170 ms of one core per hash on this project's 2-core machine (AMD
 * EPYC, Node 20), so a login (hash, throttle rows, session, audit) costs about 220 ms of CPU and
 * stays under 300 ms when the machine is not saturated. The same work as N=2^17, p=1 would take
 * 128 MiB per login; even the earlier N=2^15, p=1 (32 MiB) no longer fit the cache and took
 * 205 ms for a fifth of this work. The login throttle (per account and per IP) stands against
 * online guessing; this cost against offline guessing of a stolen table.
 *
 * N (OWASP_SCRYPT_N) is configurable (PASSWORD_SCRYPT_N) down to 2^10 outside production: the
 * test suite signs in thousands of times, and at the OWASP cost scrypt was most of its CPU
 * (Django's documentation gives its tests the same advice). The parameters travel with each hash,
 * so a cheap hash is still verified right; production refuses anything below OWASP_SCRYPT_N.
 */
const BLOCK_SIZE_R = 8;
const PARALLELISM_P = 5;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
/** Bounds on parameters read back from a stored hash, so a corrupted row cannot pin the CPU or memory. */
const MAX_COST_N = 2 ** 20;
const MAX_BLOCK_SIZE_R = 32;
const MAX_PARALLELISM_P = 16;

/** Hashes with one cost (N); verifies a stored hash with the parameters stored beside it. */
export class PasswordHasher {
  /**
   * A hash of nothing with this hasher's parameters, to verify against when the username is
   * unknown: that answer then costs the same scrypt run as a wrong password, so timing tells nothing.
   */
  private readonly unknownUserHash: string;

  constructor(private readonly costN: number = OWASP_SCRYPT_N) {
    this.unknownUserHash = [
      'scrypt',
      costN,
      BLOCK_SIZE_R,
      PARALLELISM_P,
      Buffer.alloc(SALT_BYTES).toString('base64'),
      Buffer.alloc(KEY_BYTES).toString('base64'),
    ].join('$');
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await deriveKey({ password, salt, n: this.costN, r: BLOCK_SIZE_R, p: PARALLELISM_P, keyBytes: KEY_BYTES });
    return ['scrypt', this.costN, BLOCK_SIZE_R, PARALLELISM_P, salt.toString('base64'), key.toString('base64')].join('$');
  }

  /** The scrypt run a wrong password would cost, for a username nobody has. */
  async verifyUnknownUser(password: string): Promise<void> {
    await verifyPassword(password, this.unknownUserHash);
  }

  /** True for a stored hash made with other parameters than this hasher's (rehash it at the next login). */
  needsRehash(stored: string): boolean {
    const parsed = parseStoredHash(stored);
    return (
      parsed === null ||
      parsed.n !== this.costN ||
      parsed.r !== BLOCK_SIZE_R ||
      parsed.p !== PARALLELISM_P ||
      parsed.hash.length !== KEY_BYTES
    );
  }
}

/** False for a wrong password and for a stored value that is not a well-formed scrypt hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStoredHash(stored);
  if (!parsed) return false;
  const key = await deriveKey({ password, salt: parsed.salt, n: parsed.n, r: parsed.r, p: parsed.p, keyBytes: parsed.hash.length });
  return timingSafeEqual(key, parsed.hash);
}

interface DeriveKeyParams {
  password: string;
  salt: Buffer;
  n: number;
  r: number;
  p: number;
  keyBytes: number;
}

function deriveKey(params: DeriveKeyParams): Promise<Buffer> {
  // scrypt needs about 128 * N * r bytes; Node's default maxmem (32 MiB) is exactly that for
  // N=2^15, r=8 (older hashes) and is refused, so allow twice the requirement.
  const options: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: 2 * 128 * params.n * params.r };
  return new Promise((resolve, reject) => {
    scrypt(params.password.normalize('NFC'), params.salt, params.keyBytes, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

interface StoredHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parseStoredHash(stored: string): StoredHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  const powerOfTwo = Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
  if (!powerOfTwo || n > MAX_COST_N) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_BLOCK_SIZE_R) return null;
  if (!Number.isInteger(p) || p < 1 || p > MAX_PARALLELISM_P) return null;
  if (salt.length === 0 || hash.length < 16) return null;
  return { n, r, p, salt, hash };
}
