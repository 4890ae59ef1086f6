import { JobView } from '../job.types';
import { csvCell, toCsv, toExportRow } from './batch-export';

describe(csvCell.name, () => {
  it('leaves plain text alone and writes nothing for a missing value', () => {
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell(3)).toBe('3');
    expect(csvCell(undefined)).toBe('');
  });

  it('quotes a cell with a comma, a quote, CR or LF and doubles its quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('one\ntwo')).toBe('"one\ntwo"');
    expect(csvCell('one\r\ntwo')).toBe('"one\r\ntwo"');
  });

  it('defuses formulas: a cell starting with = + - @ tab or CR gets a leading apostrophe', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('writes an array (variants) as JSON text', () => {
    expect(csvCell(['a', 'b'])).toBe('"[""a"",""b""]"');
  });
});

describe(toCsv.name, () => {
  it('writes a header and one CRLF-terminated record per job', () => {
    const job = { jobId: 'j1', status: 'completed', prompt: 'Hi, you', contentType: 'Blog Post Outline', generatedContent: '# Title\n- point' } as JobView;

    expect(toCsv([toExportRow(job, 0)])).toBe('index,jobId,status,prompt,contentType,generatedContent,error,variants\r\n0,j1,completed,"Hi, you",Blog Post Outline,"# Title\n- point",,\r\n');
  });
});
