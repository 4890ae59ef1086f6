/** One line of a body as the PDF draws it: a small, forgiving reading of the Markdown that generated text uses. */
export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'bullet'; depth: number; text: string }
  | { kind: 'numbered'; depth: number; label: string; text: string }
  | { kind: 'quote'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'rule' }
  | { kind: 'blank' }
  | { kind: 'paragraph'; text: string };

/** A run of inline text, bold or not. */
export interface Span {
  text: string;
  bold: boolean;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const BULLET = /^([ \t]*)[-*+][ \t]+(.*)$/;
const NUMBERED = /^([ \t]*)(\d{1,9})[.)][ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

/** The body's lines as blocks, one per line (a line break in the body stays a line break in the PDF). */
export function* markdownBlocks(body: string): Iterable<Block> {
  let fence: string | undefined;
  for (const line of body.split(/\r\n|\r|\n/)) {
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length) fence = undefined;
      else yield { kind: 'code', text: line };
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      continue;
    }
    yield lineBlock(line);
  }
}

function lineBlock(line: string): Block {
  if (!line.trim()) return { kind: 'blank' };
  let match = HEADING.exec(line);
  if (match) return { kind: 'heading', level: Math.min(match[1].length, 3) as 1 | 2 | 3, text: match[2] ?? '' };
  if (RULE.test(line)) return { kind: 'rule' };
  match = BULLET.exec(line);
  if (match) return { kind: 'bullet', depth: depthOf(match[1]), text: match[2] };
  match = NUMBERED.exec(line);
  if (match) return { kind: 'numbered', depth: depthOf(match[1]), label: `${match[2]}.`, text: match[3] };
  match = QUOTE.exec(line);
  if (match) return { kind: 'quote', text: match[1] };
  return { kind: 'paragraph', text: line.trim() };
}

/** Nesting from the indentation: two spaces (or a tab) per level, at most four levels. */
function depthOf(indent: string): number {
  const width = indent.replace(/\t/g, '  ').length;
  return Math.min(Math.floor(width / 2), 4);
}

/**
 * `**bold**` and `__bold__` as bold spans; `*emphasis*`, `` `code` `` and link brackets lose their markers
 * (`[text](url)` reads `text (url)`), so no Markdown syntax shows in the PDF.
 */
export function inlineSpans(text: string): Span[] {
  const plain = text
    .replace(/!?\[([^\]\n]{0,500})\]\(([^)\s]{1,2000})\)/g, (_all, label: string, url: string) => (label && label !== url ? `${label} (${url})` : url))
    .replace(/`([^`]+)`/g, '$1')
    .replace(/(^|[^*\w])\*(?!\s)([^*]+?)\*(?![*\w])/g, '$1$2');
  const spans: Span[] = [];
  const bold = /\*\*(?!\s)(.+?)\*\*|__(?!\s)(.+?)__/g;
  let last = 0;
  for (let match = bold.exec(plain); match; match = bold.exec(plain)) {
    if (match.index > last) spans.push({ text: plain.slice(last, match.index), bold: false });
    spans.push({ text: match[1] ?? match[2], bold: true });
    last = match.index + match[0].length;
  }
  if (last < plain.length) spans.push({ text: plain.slice(last), bold: false });
  return spans.filter((span) => span.text.length > 0);
}
