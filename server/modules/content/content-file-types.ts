import type { ContentKind } from '../../../entities/content-material.entity';

/**
 * What a file is, from its first bytes (the signatures every decoder checks), never from its
 * name or the uploader's Content-Type: a `.jpg` that is an HTML page would otherwise be served
 * back from our origin as whatever it claimed. Pure.
 */
export interface SniffedType {
  mime: string;
  extension: string;
}

/** How many leading bytes `sniffFileType` needs. */
export const SNIFF_BYTES = 16;

const startsWith = (head: Buffer, bytes: number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((byte, i) => head[at + i] === byte);
const ascii = (text: string): number[] => [...text].map((ch) => ch.charCodeAt(0));

export function sniffFileType(head: Buffer): SniffedType | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', extension: 'jpg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mime: 'image/png', extension: 'png' };
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return { mime: 'image/gif', extension: 'gif' };
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return { mime: 'image/webp', extension: 'webp' };
  if (startsWith(head, ascii('%PDF-'))) return { mime: 'application/pdf', extension: 'pdf' };
  // ISO base media (MP4): a box size, then `ftyp` and the major brand. QuickTime (`qt  `) is left
  // out: Android's WeChat browser does not play it.
  if (startsWith(head, ascii('ftyp'), 4) && !startsWith(head, ascii('qt  '), 8)) return { mime: 'video/mp4', extension: 'mp4' };
  return null;
}

/** The types each kind accepts; an article's file is its cover image. */
export const ACCEPTED_TYPES: Readonly<Record<ContentKind, readonly string[]>> = {
  article: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
  image: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
  video: ['video/mp4'],
  pdf: ['application/pdf'],
};
