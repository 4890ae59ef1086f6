import type { JobView } from '../job.types';

/** One exported row per job of a batch. */
export interface BatchExportRow {
  index: number;
  jobId: string;
  status: string;
  prompt: string;
  contentType: string;
  generatedContent?: string;
  error?: string;
  variants?: string[];
}

export const BATCH_EXPORT_COLUMNS: readonly (keyof BatchExportRow)[] = ['index', 'jobId', 'status', 'prompt', 'contentType', 'generatedContent', 'error', 'variants'];

export function toExportRow(job: JobView, index: number): BatchExportRow {
  return {
    index,
    jobId: job.jobId,
    status: job.status,
    prompt: job.prompt,
    contentType: job.contentType,
    ...(job.generatedContent !== undefined ? { generatedContent: job.generatedContent } : {}),
    ...(job.error !== undefined ? { error: job.error } : {}),
    ...(job.variants ? { variants: job.variants } : {}),
  };
}

/**
 * One CSV cell (RFC 4180): a cell holding a comma, a quote, CR or LF is quoted, with its quotes doubled.
 * Against formula injection in spreadsheets, a cell starting with =, +, -, @ (or a tab or CR, which
 * some spreadsheets skip before such a sign) gets a leading apostrophe (OWASP's advice), so `-3` reads `'-3`.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV: a header line, then one line per row, CRLF between records. */
export function toCsv(rows: BatchExportRow[]): string {
  const lines = [BATCH_EXPORT_COLUMNS.join(',')];
  for (const row of rows) lines.push(BATCH_EXPORT_COLUMNS.map((column) => csvCell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
