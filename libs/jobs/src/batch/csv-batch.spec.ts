import { DomainError } from '@app/common';
import { parseBatchCsv } from './csv-batch';

function failure(text: string, max = 100): DomainError {
  try {
    parseBatchCsv(text, max);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected the CSV to be refused');
}

describe(parseBatchCsv.name, () => {
  it('reads a header row and one item per data row, with the line each starts on', () => {
    const rows = parseBatchCsv('prompt,contentType\nFirst,blog-post\nSecond,Social Media Caption\n', 100);

    expect(rows).toEqual([
      { item: { prompt: 'First', contentType: 'blog-post' }, line: 2 },
      { item: { prompt: 'Second', contentType: 'Social Media Caption' }, line: 3 },
    ]);
  });

  it('keeps commas, doubled quotes and newlines inside quoted fields, and counts the lines they span', () => {
    const rows = parseBatchCsv('prompt,contentType\r\n"Hello, ""world""\r\nsecond line",blog-post\r\nNext,product-description\r\n', 100);

    expect(rows[0]).toEqual({ item: { prompt: 'Hello, "world"\r\nsecond line', contentType: 'blog-post' }, line: 2 });
    expect(rows[1]).toEqual({ item: { prompt: 'Next', contentType: 'product-description' }, line: 4 });
  });

  it('drops a UTF-8 BOM, keeps non-ASCII text and skips empty lines', () => {
    const rows = parseBatchCsv('\uFEFFprompt,contentType\n\nÜber Café ☕,blog-post\n\n', 100);

    expect(rows).toEqual([{ item: { prompt: 'Über Café ☕', contentType: 'blog-post' }, line: 3 }]);
  });

  it('turns var:<name> columns into template variables and leaves empty cells out', () => {
    const rows = parseBatchCsv('templateId,var:topic,var:keyword,prompt\nseo-blog-outline,Remote work,,\n', 100);

    expect(rows).toEqual([{ item: { templateId: 'seo-blog-outline', variables: { topic: 'Remote work' } }, line: 2 }]);
  });

  it('makes a var:__proto__ column an own property, never the prototype', () => {
    const [row] = parseBatchCsv('templateId,var:__proto__\nt,x\n', 100);

    expect(Object.getPrototypeOf(row.item.variables)).toBe(Object.prototype);
    expect(Object.keys(row.item.variables!)).toEqual(['__proto__']);
  });

  it('refuses a row with a different number of fields, naming its line', () => {
    const error = failure('prompt,contentType\nok,blog-post\nbad,blog-post,extra\n');

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('line 3');
    expect(error.details).toEqual({ details: [expect.objectContaining({ field: 'csv', line: 3 })] });
  });

  it('refuses an unclosed quote, naming the line', () => {
    const error = failure('prompt,contentType\n"never closed,blog-post\n');

    expect(error.message).toMatch(/line \d/);
    expect((error.details!.details as { field: string }[])[0].field).toBe('csv');
  });

  it('refuses unknown and repeated columns, an empty file, a header alone and too many rows', () => {
    expect(failure('prompt,colour\nx,y\n').message).toContain('Unknown CSV column "colour"');
    expect(failure('prompt,prompt\nx,y\n').message).toContain('appears twice');
    expect(failure('prompt,var:\nx,y\n').message).toContain('Unknown CSV column "var:"');
    expect(failure('').details).toEqual({ details: [{ field: 'csv.header', errors: [expect.any(String)] }] });
    expect(failure('prompt,contentType\n').message).toContain('no data rows');
    expect(failure('prompt\na\nb\nc\n', 2).message).toContain('at most 2 items');
  });
});
