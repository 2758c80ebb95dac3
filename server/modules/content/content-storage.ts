import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error, type S3Client } from '../../adapters/s3.client';
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

/** The store refused or did not answer (the S3 store); the upload is lost, the material unchanged. */
export class ContentStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContentStoreError';
  }
}

/** Keys are made by the service (`materials/<id>/<random>.<ext>`); anything else is refused. */
const CONTENT_KEY = /^[a-z0-9]+(\/[A-Za-z0-9_-]+)*(\.[a-z0-9]+)?$/;

/** Thrown by `put` when the source passes `maxBytes`: nothing is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes`);
  }
}

/**
 * Where the content centre keeps its files. Files are written once under a new key and never
 * changed (a replaced file gets a new key), so a key's bytes, size and ETag stay true for as long
 * as the key exists. Two stores: a folder (DiskContentStorage) and an S3-compatible bucket
 * (S3ContentStorage: PutObject, HeadObject, GetObject with `Range`, DeleteObject).
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
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const staged = await stageFile(this.root, source, limits.maxBytes);
    try {
      await fs.promises.rename(staged.tmp, target);
    } catch (error) {
      await fs.promises.rm(staged.tmp, { force: true });
      throw error;
    }
    return staged.file;
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

  private pathOf(key: string): string {
    if (!CONTENT_KEY.test(key)) throw new Error(`not a content key: ${key}`);
    return path.join(this.root, ...key.split('/'));
  }
}

/**
 * Files in an S3-compatible bucket (CONTENT_S3_*), under the configured prefix. An upload is
 * staged in the folder's `.tmp/` first: the meter learns its size and SHA-256 on the way, which a
 * signed PutObject needs before the first byte is sent, and a file past the limit is refused before
 * anything reaches the bucket. The staged file is removed whatever happens.
 */
export class S3ContentStorage implements ContentStorage {
  constructor(
    private readonly client: S3Client,
    private readonly stagingRoot: string,
    private readonly prefix: string,
  ) {}

  async put(key: string, source: Readable, limits: { maxBytes: number }): Promise<StoredFile> {
    const staged = await stageFile(this.stagingRoot, source, limits.maxBytes);
    try {
      await storeCall(() =>
        this.client.putObject(this.keyOf(key), fs.createReadStream(staged.tmp), { size: staged.file.size, sha256: staged.file.sha256 }),
      );
    } finally {
      await fs.promises.rm(staged.tmp, { force: true });
    }
    return staged.file;
  }

  async stat(key: string): Promise<StoredStat | null> {
    const stat = await storeCall(() => this.client.headObject(this.keyOf(key)));
    return stat ? { size: stat.size, modifiedAt: stat.lastModified } : null;
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return this.client.getObject(this.keyOf(key), range);
  }

  async remove(key: string): Promise<void> {
    await storeCall(() => this.client.deleteObject(this.keyOf(key)));
  }

  private keyOf(key: string): string {
    if (!CONTENT_KEY.test(key)) throw new Error(`not a content key: ${key}`);
    return `${this.prefix}${key}`;
  }
}

/** A store call whose refusal (S3Error) becomes the module's ContentStoreError. */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof S3Error ? new ContentStoreError(error.code, error.message) : error;
  }
}

/** Streams `source` to a new file in `<root>/.tmp/`, metered; nothing is left behind on failure. */
async function stageFile(root: string, source: Readable, maxBytes: number): Promise<{ tmp: string; file: StoredFile }> {
  const tmpDir = path.join(root, '.tmp');
  await fs.promises.mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, randomBytes(12).toString('hex'));
  const meter = new FileMeter(maxBytes);
  try {
    await pipeline(source, meter, fs.createWriteStream(tmp, { flags: 'wx' }));
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
  return { tmp, file: { size: meter.size, sha256: meter.hash.digest('hex'), head: Buffer.concat(meter.head).subarray(0, SNIFF_BYTES) } };
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
