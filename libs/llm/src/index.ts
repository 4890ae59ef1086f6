export * from './llm-provider';
export * from './llm.errors';
export * from './offline.provider';
export * from './openrouter.client';
export * from './llm.module';
export * from './system-prompts';
export * from './output-contracts';
