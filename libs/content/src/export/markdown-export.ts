import { Readable } from 'node:stream';
import { ContentItem } from '../content.types';
import { ExportMeta } from './content-export.types';
import { textStream } from './text-stream';

/**
 * One Markdown file: YAML front matter for the file, then per item a `## title` section with its metadata in a
 * fenced `yaml` block and its body as is. Every YAML value is a double-quoted scalar (or a number), so no title
 * can break out of its line or the block.
 */
export function markdownExport(items: AsyncIterable<ContentItem>, meta: ExportMeta): Readable {
  return textStream(parts(items, meta));
}

async function* parts(items: AsyncIterable<ContentItem>, meta: ExportMeta): AsyncIterable<string> {
  const front = [`title: ${yamlString(meta.title)}`, `exportedAt: ${yamlString(meta.exportedAt.toISOString())}`, `truncated: ${meta.truncated}`];
  if (meta.truncated) front.push(`limit: ${meta.limit}`);
  yield `---\n${front.join('\n')}\n---\n`;
  if (meta.truncated) yield `\n> Only the newest ${meta.limit} items are in this export; narrow it with a search or a list of ids.\n`;
  for await (const item of items) yield section(item);
}

function section(item: ContentItem): string {
  const metadata = [
    `id: ${yamlString(item._id)}`,
    `title: ${yamlString(item.title)}`,
    `type: ${yamlString(item.type)}`,
    `createdAt: ${yamlString(item.createdAt.toISOString())}`,
    `updatedAt: ${yamlString(item.updatedAt.toISOString())}`,
  ];
  if (item.sourceJobId !== undefined) metadata.push(`sourceJobId: ${yamlString(item.sourceJobId)}`);
  if (item.provider !== undefined) metadata.push(`provider: ${yamlString(item.provider)}`);
  if (item.model !== undefined) metadata.push(`model: ${yamlString(item.model)}`);
  if (item.usage) {
    metadata.push('usage:');
    for (const [key, value] of Object.entries(item.usage)) if (typeof value === 'number' && Number.isFinite(value)) metadata.push(`  ${key}: ${value}`);
  }
  // A rule before each item: its body's own headings (often `#`) cannot blur where one item ends.
  return `\n---\n\n## ${markdownHeading(item.title)}\n\n\`\`\`yaml\n${metadata.join('\n')}\n\`\`\`\n\n${bodyAsIs(item.body)}`;
}

/**
 * A YAML double-quoted scalar on one line. JSON's escapes are YAML's too; YAML also wants DEL, the C1 controls
 * (NEL is a line break to YAML 1.1), the line and paragraph separators and U+FEFF/FFFE/FFFF escaped, and a lone
 * surrogate (no UTF-8 form) becomes U+FFFD.
 */
export function yamlString(value: string): string {
  return JSON.stringify(value.replace(/\p{Cs}/gu, '\ufffd')).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A title as the text of one ATX heading: one line, with the characters Markdown would read as syntax escaped. */
export function markdownHeading(title: string): string {
  return title
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[\\`*_[\]<>#|~&!]/g, '\\$&')
    .trim();
}

/**
 * The body unchanged, but ending with a newline and with an unclosed code fence or HTML comment closed, so it
 * cannot swallow the next sections when rendered.
 */
function bodyAsIs(body: string): string {
  let text = body.endsWith('\n') ? body : `${body}\n`;
  if (text.lastIndexOf('<!--') > text.lastIndexOf('-->')) text += '-->\n';
  const open = unclosedFence(text);
  return open ? `${text}${open}\n` : text;
}

/** The fence (``` or ~~~, CommonMark's rules simplified) still open at the end of `text`. */
function unclosedFence(text: string): string | undefined {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!match) continue;
    if (!open) open = match[1];
    else if (match[1][0] === open[0] && match[1].length >= open.length && !match[2].trim()) open = undefined;
  }
  return open;
}
