import type { ContentPrompt } from './content-prompt.types';

export const PRODUCT_DESCRIPTION: ContentPrompt = {
  contentType: 'Product Description',
  role: 'You are a senior e-commerce copywriter. Write persuasive product copy for the product in the user’s request.',
  structure: [
    'First line: an attention-grabbing headline as a level-1 Markdown heading (# Headline).',
    'Then the body: prose paragraphs on the benefits the product brings to the customer.',
    'Then the key features as a list of “- ” bullet points, one feature each.',
    'End with a one-sentence call to action as a plain paragraph.',
    'No other headings, no tables, no code fences.',
  ],
  shape: {
    short: 'One short paragraph and 3 bullet points.',
    medium: 'One or two paragraphs and 4-6 bullet points.',
    long: 'Two or three paragraphs and 5-8 bullet points.',
  },
  words: { short: { min: 40, max: 90 }, medium: { min: 90, max: 200 }, long: { min: 200, max: 400 } },
  maxTokens: 800,
};
