import { attachmentDisposition, itemFilenames, libraryFilename, safeFilename, slugify } from './export-filename';

const ASCII_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The `filename="..."` and decoded `filename*` of a Content-Disposition, or a failure if it has another shape. */
function names(disposition: string): { ascii: string; utf8?: string } {
  const match = /^attachment; filename="([^"\\\r\n]*)"(?:; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+))?$/.exec(disposition);
  if (!match) throw new Error(`unexpected Content-Disposition: ${JSON.stringify(disposition)}`);
  return { ascii: match[1], utf8: match[2] === undefined ? undefined : decodeURIComponent(match[2]) };
}

describe('export file names', () => {
  it('names a library export after the day (UTC) and the format', () => {
    const at = new Date('2026-11-24T23:59:59.000Z');
    expect(libraryFilename('json', at)).toBe('library-2026-11-24.json');
    expect(libraryFilename('markdown', at)).toBe('library-2026-11-24.md');
    expect(libraryFilename('pdf', at)).toBe('library-2026-11-24.pdf');
    expect(attachmentDisposition('library-2026-11-24.pdf')).toBe('attachment; filename="library-2026-11-24.pdf"');
  });

  it.each([
    ['Crème brûlée à la française', 'creme-brulee-a-la-francaise'],
    ['Ærøskøbing', 'aeroskobing'],
    ['Łódź', 'lodz'],
    ['Straße', 'strasse'],
    ['Ten tips for remote teams!', 'ten-tips-for-remote-teams'],
    ['../../etc/passwd', 'etc-passwd'],
    ['..', 'fallback'],
    ['日本語', 'fallback'],
    ['🚀', 'fallback'],
    ['   ', 'fallback'],
    ['a'.repeat(200), 'a'.repeat(80)],
  ])('slugifies %j as %j', (title, slug) => {
    expect(slugify(title, 'fallback')).toBe(slug);
  });

  it.each([
    ['a path', '../../etc/passwd', 'etc-passwd'],
    ['quotes and a header injection', '../../etc/passwd "x"\r\nSet-Cookie: a=b', 'etc-passwd-x-set-cookie-a-b'],
    ['a bidi override', 'invoice\u202Etxt.exe', 'invoice-txt-exe'],
    ['backslashes', '..\\..\\windows\\system32', 'windows-system32'],
    ['a NUL', 'nul\u0000byte', 'nul-byte'],
    ['a lone surrogate', 'broken \ud800 pair', 'broken-pair'],
    ['only emoji', '🚀🚀', 'content-6650a1b2c3d4e5f6a7b8c9d0'],
  ])('keeps %s out of both names', (_case, title, slug) => {
    for (const [format, extension] of [['json', 'json'], ['markdown', 'md'], ['pdf', 'pdf']] as const) {
      const { ascii, utf8 } = itemFilenames(title, '6650a1b2c3d4e5f6a7b8c9d0', format);
      expect(ascii).toBe(`${slug}.${extension}`);
      const header = attachmentDisposition(ascii, utf8);
      expect(header).not.toMatch(/[\r\n\u0000-\u001f\u007f]/);
      const parsed = names(header);
      expect(parsed.ascii).toMatch(ASCII_NAME);
      expect(parsed.ascii).toBe(ascii);
      const real = parsed.utf8 ?? parsed.ascii;
      expect(real).not.toMatch(/[/\\"<>|:*?\p{Cc}\p{Cf}]|^[.\s-]/u);
      expect(real.endsWith(`.${extension}`)).toBe(true);
    }
  });

  it('keeps the real title, accents and emoji included, in filename* (RFC 5987)', () => {
    const { ascii, utf8 } = itemFilenames("Crème brûlée (l'original) 🚀", 'id', 'pdf');
    const header = attachmentDisposition(ascii, utf8);
    expect(header).toBe(`attachment; filename="creme-brulee-l-original.pdf"; filename*=UTF-8''Cr%C3%A8me%20br%C3%BBl%C3%A9e%20%28l%27original%29%20%F0%9F%9A%80.pdf`);
    expect(names(header).utf8).toBe("Crème brûlée (l'original) 🚀.pdf");
  });

  it('cuts a long title, never its extension', () => {
    const { ascii, utf8 } = itemFilenames('é'.repeat(300), 'id', 'markdown');
    expect(ascii).toBe('e'.repeat(80) + '.md');
    expect(utf8).toBe('é'.repeat(120) + '.md');
  });

  it('makes any ASCII name safe even when given an unsafe one', () => {
    expect(names(attachmentDisposition('../a "b".pdf')).ascii).toBe('a--b-.pdf');
    expect(names(attachmentDisposition('')).ascii).toBe('export');
  });

  it('writes file names on one line with no reserved characters', () => {
    expect(safeFilename(' a/b\\c:d*e?f"g<h>i|j \n k ')).toBe('a-b-c-d-e-f-g-h-i-j k');
    expect(safeFilename('...hidden')).toBe('hidden');
  });
});
