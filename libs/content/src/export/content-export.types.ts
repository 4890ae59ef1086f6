import { Readable } from 'node:stream';

export const EXPORT_FORMATS = ['json', 'markdown', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** At most this many ids in one `ids=` list (about 12.5 kB of URL, under Node's 16 kB header limit). */
export const EXPORT_MAX_IDS = 500;

/** What a format writer needs besides the items: written into the file before the items arrive. */
export interface ExportMeta {
  /** The whole (or searched, or chosen) library, or one item. */
  scope: 'library' | 'item';
  /** The file's own title: "Content library" or the single item's title. */
  title: string;
  exportedAt: Date;
  /** The export stopped at `limit` items while more matched. */
  truncated: boolean;
  /** EXPORT_MAX_ITEMS at the time of the export. */
  limit: number;
}

/** A finished export, ready to stream: the file's bytes are produced as the client reads them. */
export interface ContentExport {
  stream: Readable;
  /** The Content-Type, with charset for text formats. */
  contentType: string;
  /** The whole Content-Disposition value: `attachment; filename="..."; filename*=UTF-8''...`. */
  disposition: string;
  /** The ASCII file name (the `filename=` part). */
  filename: string;
  truncated: boolean;
}
