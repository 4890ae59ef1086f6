/** The exact content type strings of the wire contract. */
export const CONTENT_TYPES = ['Blog Post Outline', 'Product Description', 'Social Media Caption'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

const SLUGS: Record<string, ContentType> = {
  'blog-post-outline': 'Blog Post Outline',
  'blog-post': 'Blog Post Outline',
  'product-description': 'Product Description',
  'social-media-caption': 'Social Media Caption',
};

/** Accepts an exact content type or one of its slugs; anything else is returned unchanged for validation to refuse. */
export function normalizeContentType(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return SLUGS[value.trim().toLowerCase()] ?? value;
}
