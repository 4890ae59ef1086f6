export * from './llm-provider';
export * from './llm.errors';
export * from './offline.provider';
export * from './openrouter.client';
export * from './openrouter.module';
export * from './system-prompts';
