import { z } from 'zod';

/**
 * Where the content centre keeps its files: a folder (CONTENT_DIR, the default) or an
 * S3-compatible object store (AWS S3, Tencent COS, Aliyun OSS in S3 mode, MinIO), chosen by
 * CONTENT_S3_BUCKET. Parsed once with the rest of the configuration.
 */

const optionalText = z.string().trim().min(1).optional();

export const contentStoreEnvSchema = z.object({
  /** The store's endpoint, such as `https://cos.ap-shanghai.myqcloud.com` or `http://minio:9000`. */
  CONTENT_S3_ENDPOINT: z.url().optional(),
  /** The bucket; setting it turns the S3 store on (endpoint and keys are then required with it). */
  CONTENT_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)')
    .optional(),
  CONTENT_S3_REGION: z.string().trim().min(1).default('us-east-1'),
  CONTENT_S3_ACCESS_KEY_ID: optionalText,
  CONTENT_S3_SECRET_ACCESS_KEY: optionalText,
  /** A folder inside the bucket the keys go under, so one bucket can serve several sites. */
  CONTENT_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+$/, 'must be a path such as `flywheel/prod`, without leading or trailing slash')
    .optional(),
});

export type ContentStoreEnv = z.output<typeof contentStoreEnvSchema>;

export interface S3StoreConfig {
  /** Without a trailing slash. Requests go path-style: `<endpoint>/<bucket>/<key>`. */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** '' or `prefix/`. */
  prefix: string;
}

/** The S3 store's settings, or null for the folder (loadConfig requires the four together). */
export function readS3StoreConfig(e: ContentStoreEnv): S3StoreConfig | null {
  if (!e.CONTENT_S3_BUCKET || !e.CONTENT_S3_ENDPOINT || !e.CONTENT_S3_ACCESS_KEY_ID || !e.CONTENT_S3_SECRET_ACCESS_KEY) return null;
  return {
    endpoint: e.CONTENT_S3_ENDPOINT.replace(/\/+$/, ''),
    bucket: e.CONTENT_S3_BUCKET,
    region: e.CONTENT_S3_REGION,
    accessKeyId: e.CONTENT_S3_ACCESS_KEY_ID,
    secretAccessKey: e.CONTENT_S3_SECRET_ACCESS_KEY,
    prefix: e.CONTENT_S3_PREFIX ? `${e.CONTENT_S3_PREFIX}/` : '',
  };
}
