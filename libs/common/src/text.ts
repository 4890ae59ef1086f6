/** Extracts the token of an `Authorization: Bearer <token>` header (any case of "Bearer", surrounding spaces). */
export function bearerToken(header: unknown): string | undefined {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

/**
 * Every regex metacharacter becomes literal text, so a search for `.*(` finds those three characters.
 * NUL becomes `\x00`: a BSON regular expression is a C string and cannot hold the byte itself.
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\0]/g, (char) => (char === '\0' ? '\\x00' : `\\${char}`));
}
