import { parse } from 'csv-parse/sync';
import { DomainError, invalidArgument } from '@app/common';

/** One data row of a batch CSV as the item it stands for, and the line it starts on (1 = the header). */
export interface CsvBatchRow {
  item: { prompt?: string; contentType?: string; templateId?: string; variables?: Record<string, string> };
  line: number;
}

const PLAIN_COLUMNS = new Set(['prompt', 'contentType', 'templateId']);
const VARIABLE_PREFIX = 'var:';

/**
 * Parses a batch CSV (RFC 4180 by csv-parse: a header row, quoted fields with commas, quotes and newlines,
 * UTF-8 with or without BOM, empty lines skipped). Columns: `prompt`, `contentType`, `templateId`, and
 * `var:<name>` for a template variable; an empty cell is an omitted field. A malformed file is a 400
 * naming the line (`field: "csv"`), a bad header names the column (`field: "csv.header"`).
 */
export function parseBatchCsv(text: string, maxRows: number): CsvBatchRow[] {
  let records: { record: string[]; raw: string }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false, raw: true }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw csvError(line, `CSV could not be read${line ? ` at line ${line}` : ''}: ${(error as Error).message}`);
  }
  if (records.length === 0) throw invalidArgument('csv.header', 'CSV needs a header row (prompt, contentType, templateId, var:<name>) and at least one data row');
  const header = records[0].record.map((name) => name.trim());
  checkHeader(header);
  const rows = startLines(records).slice(1);
  if (rows.length === 0) throw invalidArgument('items', 'CSV has a header but no data rows');
  if (rows.length > maxRows) throw invalidArgument('items', `A batch holds at most ${maxRows} items; this CSV has ${rows.length} rows`);
  return rows.map(({ record, line }) => ({ item: toItem(header, record), line }));
}

const LINE_BREAK = /\r\n|\n|\r/g;

/**
 * The line each record starts on, counted from the raw text (csv-parse's own count takes a CRLF inside
 * quotes for two lines). A record's raw text holds the empty lines skipped before it and its line break.
 */
function startLines(records: { record: string[]; raw: string }[]): { record: string[]; line: number }[] {
  let breaks = 0;
  return records.map(({ record, raw }) => {
    const leading = /^(?:\r\n|\n|\r)*/.exec(raw)![0].match(LINE_BREAK)?.length ?? 0;
    const line = breaks + leading + 1;
    breaks += raw.match(LINE_BREAK)?.length ?? 0;
    return { record, line };
  });
}

function checkHeader(header: string[]): void {
  const seen = new Set<string>();
  for (const name of header) {
    const variable = name.startsWith(VARIABLE_PREFIX) ? name.slice(VARIABLE_PREFIX.length) : undefined;
    if (!PLAIN_COLUMNS.has(name) && !variable) {
      throw invalidArgument('csv.header', `Unknown CSV column "${name.slice(0, 50)}" on line 1: use prompt, contentType, templateId or var:<name>`);
    }
    if (seen.has(name)) throw invalidArgument('csv.header', `CSV column "${name.slice(0, 50)}" appears twice on line 1`);
    seen.add(name);
  }
}

function toItem(header: string[], record: string[]): CsvBatchRow['item'] {
  const item: CsvBatchRow['item'] = {};
  const variables: [string, string][] = [];
  header.forEach((name, column) => {
    const value = record[column];
    if (value === undefined || value.trim() === '') return;
    if (name.startsWith(VARIABLE_PREFIX)) variables.push([name.slice(VARIABLE_PREFIX.length), value]);
    else item[name as 'prompt' | 'contentType' | 'templateId'] = value;
  });
  // fromEntries: a column named var:__proto__ becomes an own property (then refused as unknown), never the prototype.
  if (variables.length > 0) item.variables = Object.fromEntries(variables);
  return item;
}

function csvError(line: number | undefined, message: string): DomainError {
  return new DomainError('INVALID_ARGUMENT', message, { details: [{ field: 'csv', errors: [message], ...(line ? { line } : {}) }] });
}
