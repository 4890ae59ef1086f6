import { ExportFormat } from './content-export.types';

const EXTENSIONS: Record<ExportFormat, string> = { json: 'json', markdown: 'md', pdf: 'pdf' };
const SLUG_MAX_LENGTH = 80;
const NAME_MAX_LENGTH = 120;
/** Letters that do not decompose into an ASCII base letter and a mark under NFKD. */
const TRANSLITERATIONS: Record<string, string> = { ß: 'ss', æ: 'ae', Æ: 'AE', ø: 'o', Ø: 'O', œ: 'oe', Œ: 'OE', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i' };

export function fileExtension(format: ExportFormat): string {
  return EXTENSIONS[format];
}

/** `library-2026-11-24.pdf`: the date (UTC) the library was exported. */
export function libraryFilename(format: ExportFormat, exportedAt: Date): string {
  return `library-${exportedAt.toISOString().slice(0, 10)}.${fileExtension(format)}`;
}

/**
 * Lower-case ASCII letters, digits and single dashes, accents folded (`Crème brûlée` -> `creme-brulee`);
 * never empty (then `fallback`), never `.`/`..` or a path, at most 80 characters.
 */
export function slugify(text: string, fallback: string): string {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\u0000-\u007f]/g, (char) => TRANSLITERATIONS[char] ?? '-');
  const slug = folded
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/^-+|-+$/g, '');
  return slug || fallback;
}

/** The names of one item's file: an ASCII slug of its title, and the title itself made safe (both with the extension). */
export function itemFilenames(title: string, id: string, format: ExportFormat): { ascii: string; utf8: string } {
  const extension = fileExtension(format);
  const ascii = `${slugify(title, `content-${id}`)}.${extension}`;
  const base = [...safeFilename(title)].slice(0, NAME_MAX_LENGTH).join('').trim();
  return { ascii, utf8: base ? `${base}.${extension}` : ascii };
}

/**
 * The Content-Disposition of a download: `filename="..."` holds only [A-Za-z0-9._-] (what old clients read),
 * `filename*` (RFC 5987/6266) the real name in UTF-8 when it differs. Control and format characters (CR, LF,
 * bidi overrides), quotes and path separators reach neither the header nor the saved name.
 */
export function attachmentDisposition(asciiName: string, utf8Name = asciiName): string {
  const ascii = asciiName.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '') || 'export';
  const real = safeFilename(utf8Name) || ascii;
  return real === ascii ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(real)}`;
}

/** Text as a file name any system accepts: one line, no separators or reserved characters, no leading dot or dash. */
export function safeFilename(name: string): string {
  return name
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/[/\\:*?"<>|]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s-]+/, '');
}

/** RFC 5987 value chars: encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
