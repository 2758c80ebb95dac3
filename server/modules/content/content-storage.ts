import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SNIFF_BYTES } from './content-file-types';

/** What the store learnt while writing a file (it never holds the file in memory). */
export interface StoredFile {
  size: number;
  /** Hex SHA-256. */
  sha256: string;
  /** The first bytes, for sniffing the type. */
  head: Buffer;
}

export interface StoredStat {
  size: number;
  modifiedAt: Date;
}

/** Thrown by `put` when the source passes `maxBytes`: nothing is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes`);
  }
}

/**
 * Where the content centre keeps its files. Files are written once under a new key and never
 * changed (a replaced file gets a new key), so a key's bytes, size and ETag stay true for as long
 * as the key exists. The disk store below is the one built; an S3-compatible store implements
 * the same four calls (PutObject through a multipart upload, HeadObject, GetObject with `Range`,
 * DeleteObject).
 */
export interface ContentStorage {
  /** Streams `source` into `key`; throws FileTooLargeError past `maxBytes` (nothing is kept then). */
  put(key: string, source: Readable, limits: { maxBytes: number }): Promise<StoredFile>;
  stat(key: string): Promise<StoredStat | null>;
  /** A stream of bytes `start..end` inclusive (the whole file without a range). */
  read(key: string, range?: { start: number; end: number }): Readable;
  /** Removes the key; a missing key is not an error. */
  remove(key: string): Promise<void>;
}

/**
 * Files in a folder (CONTENT_DIR). A file is written to `.tmp/` first and renamed into place once
 * complete, so a reader never sees half a file and a crash leaves only a temporary file behind.
 */
export class DiskContentStorage implements ContentStorage {
  constructor(private readonly root: string) {}

  async put(key: string, source: Readable, limits: { maxBytes: number }): Promise<StoredFile> {
    const target = this.pathOf(key);
    const tmpDir = path.join(this.root, '.tmp');
    await fs.promises.mkdir(tmpDir, { recursive: true });
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(tmpDir, randomBytes(12).toString('hex'));
    const meter = new FileMeter(limits.maxBytes);
    try {
      await pipeline(source, meter, fs.createWriteStream(tmp, { flags: 'wx' }));
      await fs.promises.rename(tmp, target);
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      throw error;
    }
    return { size: meter.size, sha256: meter.hash.digest('hex'), head: Buffer.concat(meter.head).subarray(0, SNIFF_BYTES) };
  }

  async stat(key: string): Promise<StoredStat | null> {
    try {
      const stat = await fs.promises.stat(this.pathOf(key));
      return stat.isFile() ? { size: stat.size, modifiedAt: stat.mtime } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return fs.createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async remove(key: string): Promise<void> {
    await fs.promises.rm(this.pathOf(key), { force: true });
  }

  /** Keys are made by the service (`materials/<id>/<random>.<ext>`); anything else is refused. */
  private pathOf(key: string): string {
    if (!/^[a-z0-9]+(\/[A-Za-z0-9_-]+)*(\.[a-z0-9]+)?$/.test(key)) throw new Error(`not a content key: ${key}`);
    return path.join(this.root, ...key.split('/'));
  }
}

/** Counts, hashes and keeps the first bytes of what passes; fails past the limit. */
class FileMeter extends Transform {
  size = 0;
  readonly hash = createHash('sha256');
  readonly head: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new FileTooLargeError(this.maxBytes));
      return;
    }
    if (this.headBytes < SNIFF_BYTES) {
      this.head.push(chunk.subarray(0, SNIFF_BYTES - this.headBytes));
      this.headBytes += Math.min(chunk.length, SNIFF_BYTES - this.headBytes);
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}
