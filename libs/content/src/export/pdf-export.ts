import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import PDFDocument from 'pdfkit';
import { ContentItem } from '../content.types';
import { ExportMeta } from './content-export.types';
import { Block, inlineSpans, markdownBlocks, Span } from './markdown-blocks';

const FONT_FILES = { sans: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', mono: 'DejaVuSansMono.ttf' } as const;
type FontName = keyof typeof FONT_FILES;

const MARGIN = 56;
const BOTTOM_MARGIN = 64;
const COLOR = { text: '#1a1a1a', muted: '#666666', rule: '#c8c8c8' };
const BODY_SIZE = 10.5;
const HEADING_SIZES = { 1: 14, 2: 12.5, 3: 11.5 } as const;
const INDENT = 14;
const OUTPUT_HIGH_WATER_MARK = 64 * 1024;
/** What a run of characters the font lacks (emoji, CJK...) becomes when the font has no U+FFFD either. */
const FALLBACK_REPLACEMENT = '?';
/** Characters that only join or modify their neighbours: format characters, combining marks, emoji modifiers. */
const JOINING = /[\p{Cf}\p{M}\u{1F3FB}-\u{1F3FF}]/u;

interface Style {
  font: FontName;
  size: number;
  color: string;
}

/**
 * The only pdfkit internals read here: the fontkit font behind the current font (to ask which characters it can
 * draw) and each loaded font's word-layout cache (to empty it between items).
 */
interface PdfkitInternals {
  _font?: { font?: { hasGlyphForCodePoint?(codePoint: number): boolean } };
  _fontFamilies?: Record<string, { layoutCache?: Record<string, unknown> }>;
}

let fontData: Record<FontName, Buffer> | undefined;

/** The DejaVu files, read once per process (about 1.8 MB): Latin with every accent, Greek, Cyrillic. */
function fonts(): Record<FontName, Buffer> {
  if (!fontData) {
    const directory = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    fontData = { sans: readFileSync(join(directory, FONT_FILES.sans)), bold: readFileSync(join(directory, FONT_FILES.bold)), mono: readFileSync(join(directory, FONT_FILES.mono)) };
  }
  return fontData;
}

/**
 * A PDF (A4, DejaVu Sans) written as the items arrive: a title line, then per item its title, type and date,
 * and the body with Markdown headings, bullet and numbered lists, quotes and code drawn as such; `Page n` on
 * every page. pdfkit pushes its bytes without waiting for the reader, so they go through a bounded
 * PassThrough and the next item is read only once the client has taken the previous ones. Pages are never
 * buffered (no `bufferPages`): each one is written out when the next begins.
 */
export function pdfExport(items: AsyncIterable<ContentItem>, meta: ExportMeta): Readable {
  const out = new PassThrough({ highWaterMark: OUTPUT_HIGH_WATER_MARK });
  render(items, meta, out).catch((error: unknown) => out.destroy(error as Error));
  return out;
}

async function render(items: AsyncIterable<ContentItem>, meta: ExportMeta, out: PassThrough): Promise<void> {
  const writer = new PdfWriter(out, meta);
  let count = 0;
  for await (const item of items) {
    // The client went away: leaving the loop closes the database cursor.
    if (out.destroyed) return;
    writer.item(item, count === 0);
    count++;
    await writer.drained();
    // Items of a cursor batch resolve without I/O; let other requests run between them.
    await nextTurn();
  }
  if (!out.destroyed) writer.end(count);
}

class PdfWriter {
  private readonly doc: PDFKit.PDFDocument;
  private pageNumber = 0;
  private style: Style = { font: 'sans', size: BODY_SIZE, color: COLOR.text };
  private readonly coverage = new Map<FontName, (codePoint: number) => boolean>();
  private readonly replacement = new Map<FontName, string>();
  private afterBlank = false;

  constructor(
    private readonly out: PassThrough,
    private readonly meta: ExportMeta,
  ) {
    this.doc = new PDFDocument({
      autoFirstPage: false,
      size: 'A4',
      margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: BOTTOM_MARGIN },
      info: { Title: meta.title, Creator: 'AI Content Generator', CreationDate: meta.exportedAt },
      displayTitle: true,
    });
    for (const [name, data] of Object.entries(fonts())) this.doc.registerFont(name, data);
    this.doc.on('data', (chunk: Buffer) => {
      if (!out.destroyed) out.write(chunk);
    });
    this.doc.on('end', () => out.end());
    this.doc.on('pageAdded', () => this.footer());
    this.doc.addPage();
    if (meta.scope === 'library') this.cover();
  }

  /** Waits while the client has not taken what was written (false when it went away). */
  async drained(): Promise<void> {
    if (!this.out.writableNeedDrain || this.out.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }

  item(item: ContentItem, first: boolean): void {
    if (!first) {
      this.gap(0.8);
      this.rule();
      this.gap(0.6);
    }
    // Keep a title with the start of its body.
    this.ensureSpace(90);
    this.paragraph([{ text: item.title, bold: true }], this.left, { size: 16, color: COLOR.text });
    this.gap(0.15);
    this.paragraph([{ text: metaLine(item), bold: false }], this.left, { size: 9, color: COLOR.muted });
    this.gap(0.6);
    this.afterBlank = true;
    for (const block of markdownBlocks(item.body)) this.block(block);
    this.forgetLayouts();
  }

  /**
   * pdfkit keeps the layout of every distinct word for the whole document: a few kB per word, so a long export
   * would grow with its vocabulary. Kept for one item only (where it pays: each word is measured, then drawn).
   */
  private forgetLayouts(): void {
    for (const font of Object.values((this.doc as unknown as PdfkitInternals)._fontFamilies ?? {})) {
      if (font.layoutCache) font.layoutCache = Object.create(null);
    }
  }

  end(count: number): void {
    if (this.meta.scope === 'library') {
      this.gap(1);
      this.rule();
      this.gap(0.4);
      this.paragraph([{ text: `End of export: ${count} ${count === 1 ? 'item' : 'items'}.`, bold: false }], this.left, { size: 9, color: COLOR.muted });
    }
    this.doc.end();
  }

  private cover(): void {
    this.paragraph([{ text: this.meta.title, bold: true }], this.left, { size: 20, color: COLOR.text });
    this.gap(0.2);
    this.paragraph([{ text: `Exported ${formatDate(this.meta.exportedAt)}`, bold: false }], this.left, { size: 9, color: COLOR.muted });
    if (this.meta.truncated) {
      const notice = `Only the newest ${this.meta.limit} items are in this export; narrow it with a search or a list of ids.`;
      this.paragraph([{ text: notice, bold: true }], this.left, { size: 9, color: COLOR.text });
    }
    this.gap(0.8);
    this.rule();
    this.gap(0.8);
  }

  private block(block: Block): void {
    if (block.kind === 'blank') {
      if (!this.afterBlank) this.gap(0.5);
      this.afterBlank = true;
      return;
    }
    this.afterBlank = false;
    const body = { size: BODY_SIZE, color: COLOR.text };
    switch (block.kind) {
      case 'heading':
        this.gap(0.4);
        this.ensureSpace(40);
        this.paragraph(inlineSpans(block.text).map((span) => ({ ...span, bold: true })), this.left, { size: HEADING_SIZES[block.level], color: COLOR.text });
        this.gap(0.2);
        return;
      case 'bullet':
        this.listItem('•', block.depth, inlineSpans(block.text), body);
        return;
      case 'numbered':
        this.listItem(block.label, block.depth, inlineSpans(block.text), body);
        return;
      case 'quote':
        this.paragraph(inlineSpans(block.text), this.left + INDENT, { size: BODY_SIZE, color: COLOR.muted });
        return;
      case 'code':
        this.paragraph([{ text: block.text.replace(/\t/g, '    ') || ' ', bold: false }], this.left + INDENT / 2, { size: 9, color: COLOR.text }, 'mono');
        return;
      case 'rule':
        this.gap(0.3);
        this.rule();
        this.gap(0.3);
        return;
      case 'paragraph':
        this.paragraph(inlineSpans(block.text), this.left, body);
    }
  }

  /** The marker in the indent, the text wrapping beside it (a hanging indent), both on the same page. */
  private listItem(marker: string, depth: number, spans: Span[], style: Omit<Style, 'font'>): void {
    const markerX = this.left + INDENT * depth + 4;
    this.use({ font: 'sans', ...style });
    const label = this.printable(marker, 'sans');
    this.ensureSpace(this.doc.currentLineHeight(true));
    const y = this.doc.y;
    this.doc.text(label, markerX, y, { lineBreak: false });
    this.doc.y = y;
    const textX = markerX + Math.max(12, this.doc.widthOfString(label) + 5);
    this.paragraph(spans.length ? spans : [{ text: ' ', bold: false }], textX, style);
  }

  /** Spans (bold or not) wrapped between `x` and the right margin, flowing onto new pages as needed. */
  private paragraph(spans: Span[], x: number, style: Omit<Style, 'font'>, font?: FontName): void {
    const options = { width: this.right - x, lineGap: 2 };
    const drawn = spans.map((span) => {
      const name: FontName = font ?? (span.bold ? 'bold' : 'sans');
      return { font: name, text: breakLongWords(this.printable(span.text, name)) };
    });
    if (drawn.length === 0) return;
    drawn.forEach((span, index) => {
      this.use({ font: span.font, ...style });
      const continued = index < drawn.length - 1;
      if (index === 0) this.doc.text(span.text, x, this.doc.y, { ...options, continued });
      else this.doc.text(span.text, { ...options, continued });
    });
    this.doc.x = this.left;
  }

  private rule(): void {
    const y = this.doc.y;
    this.doc.save().moveTo(this.left, y).lineTo(this.right, y).lineWidth(0.5).strokeColor(COLOR.rule).stroke().restore();
    this.doc.y = y + 1;
  }

  private gap(lines: number): void {
    this.use({ ...this.style, font: 'sans', size: BODY_SIZE });
    this.doc.moveDown(lines);
  }

  private ensureSpace(height: number): void {
    if (this.doc.y + height > this.doc.page.maxY()) this.doc.addPage();
  }

  /** `Page n` at the foot of each page, drawn as the page begins (so no page is kept to number later). */
  private footer(): void {
    this.pageNumber++;
    const { doc } = this;
    const { x, y } = doc;
    const label = `Page ${this.pageNumber}`;
    doc.font('sans').fontSize(8).fillColor(COLOR.muted);
    // Below the bottom margin: lift the margin so pdfkit does not start yet another page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.text(label, (doc.page.width - doc.widthOfString(label)) / 2, doc.page.height - 40, { lineBreak: false });
    doc.page.margins.bottom = bottom;
    doc.x = x;
    doc.y = y;
    this.apply(this.style);
  }

  private use(style: Style): void {
    this.style = style;
    this.apply(style);
  }

  private apply(style: Style): void {
    this.doc.font(style.font).fontSize(style.size).fillColor(style.color);
  }

  private get left(): number {
    return this.doc.page.margins.left;
  }

  private get right(): number {
    return this.doc.page.width - this.doc.page.margins.right;
  }

  /**
   * Text the font can draw: control characters dropped, tabs as spaces, and each run of characters the font
   * lacks (emoji, CJK, and the joiners and variation selectors between them) as one U+FFFD, so nothing is drawn
   * as an empty box or breaks the layout.
   */
  private printable(text: string, font: FontName): string {
    const has = this.glyphCheck(font);
    const replacement = this.replacementFor(font);
    let result = '';
    let missing = false;
    for (const char of text) {
      const codePoint = char.codePointAt(0)!;
      if (char === '\t') {
        result += ' ';
        missing = false;
      } else if (/[\p{Cc}\p{Cs}]/u.test(char)) {
        continue;
      } else if (missing && JOINING.test(char)) {
        // A joiner, variation selector or skin tone inside an emoji sequence the font cannot draw anyway.
        continue;
      } else if (has(codePoint)) {
        result += char;
        missing = false;
      } else if (!missing) {
        result += replacement;
        missing = true;
      }
    }
    return result;
  }

  private glyphCheck(font: FontName): (codePoint: number) => boolean {
    let check = this.coverage.get(font);
    if (!check) {
      this.doc.font(font);
      const fontkit = (this.doc as unknown as PdfkitInternals)._font?.font;
      check = fontkit?.hasGlyphForCodePoint ? fontkit.hasGlyphForCodePoint.bind(fontkit) : () => true;
      this.coverage.set(font, check);
      this.apply(this.style);
    }
    return check;
  }

  private replacementFor(font: FontName): string {
    let replacement = this.replacement.get(font);
    if (replacement === undefined) {
      replacement = this.glyphCheck(font)(0xfffd) ? '\ufffd' : FALLBACK_REPLACEMENT;
      this.replacement.set(font, replacement);
    }
    return replacement;
  }
}

function metaLine(item: ContentItem): string {
  const parts: string[] = [item.type, formatDate(item.createdAt)];
  if (item.model) parts.push(item.provider ? `${item.provider} / ${item.model}` : item.model);
  return parts.join(' · ');
}

/** `2026-11-24 10:40 UTC`: one unambiguous form whatever the reader's locale. */
function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Longest run of non-space characters drawn without a break opportunity. */
const MAX_UNBROKEN = 40;
const LONG_WORD = new RegExp(`\\S{${MAX_UNBROKEN}}(?=\\S)`, 'gu');

/**
 * A word wider than the line makes pdfkit measure the rest of it again on every line it wraps to (and cache
 * every piece): quadratic in the word's length, seconds and gigabytes for a 50,000-character body without a
 * space. A zero-width space every 40 characters of such a run gives the wrapper a place to break, unseen.
 */
export function breakLongWords(text: string): string {
  return text.replace(LONG_WORD, (run) => `${run}\u200B`);
}
