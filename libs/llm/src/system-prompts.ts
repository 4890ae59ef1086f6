import type { ContentType } from '@app/common';

const FORMAT = 'Answer in plain text or Markdown only, with no preamble and no closing remarks about the task.';

/** The system message sent with each content type. */
export const SYSTEM_PROMPTS: Readonly<Record<ContentType, string>> = {
  'Blog Post Outline':
    'You are an experienced content strategist. Write a blog post outline for the topic the user gives: ' +
    'a compelling title, a short introduction, 5-7 sections each with a heading and 2-4 key points, and a conclusion. ' +
    FORMAT,
  'Product Description':
    'You are a senior e-commerce copywriter. Write persuasive product copy for the product the user describes: ' +
    'an attention-grabbing headline, the key features, the benefits they bring to the customer, and a clear call to action. ' +
    FORMAT,
  'Social Media Caption':
    'You are a social media manager. Write one engaging caption for the post the user describes: ' +
    'a catchy hook with a few fitting emojis, a call to action, and 3-5 relevant hashtags at the end. ' +
    FORMAT,
};

/**
 * The `max_tokens` asked of the provider per content type: room for the structure its system prompt asks for,
 * with a margin, so a rambling model stops early (LLM_MAX_OUTPUT_CHARS is the hard limit behind it).
 */
export const MAX_TOKENS: Readonly<Record<ContentType, number>> = {
  'Blog Post Outline': 1500,
  'Product Description': 800,
  'Social Media Caption': 400,
};
