import { type GenerationOptions, PLATFORM_LIMITS } from '@app/common';
import { DEFAULT_CAPTION_LIMITS, PLATFORM_NAMES } from '../output-contracts';
import type { ContentPrompt } from './content-prompt.types';

export const SOCIAL_MEDIA_CAPTION: ContentPrompt = {
  contentType: 'Social Media Caption',
  role: 'You are a social media manager. Write one engaging caption for the post in the user’s request.',
  structure: [
    'Plain text: no Markdown headings, no bullet lists, no quotation marks around the caption.',
    'A catchy hook with a few fitting emojis, then the message, then a call to action.',
    'The hashtags last, on their own line.',
  ],
  shape: {
    short: 'One or two sentences.',
    medium: 'Two to four sentences.',
    long: 'A short paragraph or two.',
  },
  words: { short: { min: 10, max: 30 }, medium: { min: 25, max: 60 }, long: { min: 60, max: 150 } },
  maxTokens: 400,
  optionRules: ({ platform }: GenerationOptions) => {
    const limits = platform ? PLATFORM_LIMITS[platform] : DEFAULT_CAPTION_LIMITS;
    // A short platform leaves room for fewer tags.
    const suggested = limits.maxChars <= 280 ? '1-3' : '3-5';
    const where = platform ? `It is for ${PLATFORM_NAMES[platform]}: ` : '';
    return [
      `${where}at most ${limits.maxChars} characters in all (spaces, emojis and hashtags count) and at most ${limits.maxHashtags} hashtags; ${suggested} fitting hashtags work best.`,
    ];
  },
};
