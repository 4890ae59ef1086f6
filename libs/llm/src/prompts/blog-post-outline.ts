import type { ContentPrompt } from './content-prompt.types';

export const BLOG_POST_OUTLINE: ContentPrompt = {
  contentType: 'Blog Post Outline',
  role: 'You are an experienced content strategist. Write a blog post outline for the topic in the user’s request.',
  structure: [
    'First line: the post’s title as a level-1 Markdown heading (# Title).',
    'Then a one- or two-sentence introduction as a plain paragraph.',
    'Then the sections: each a level-2 Markdown heading (## Heading) followed by its key points as “- ” bullet points.',
    'The last section is the conclusion, with a call to action among its points.',
    'No other heading levels, no numbered lists, no code fences.',
  ],
  shape: {
    short: '3-4 sections with 2 points each.',
    medium: '5-7 sections with 2-4 points each.',
    long: '7-10 sections with 3-5 points each, each point a full sentence.',
  },
  words: { short: { min: 80, max: 200 }, medium: { min: 200, max: 450 }, long: { min: 450, max: 900 } },
  maxTokens: 1500,
};
