export * from './llm-provider';
export * from './llm.errors';
export * from './offline.provider';
export * from './openrouter.client';
export * from './llm.module';
export * from './prompts/build-messages';
export type { ContentPrompt } from './prompts/content-prompt.types';
export * from './output-contracts';
