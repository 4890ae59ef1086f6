export * from './app.config';
export * from './auth.config';
export * from './generation.config';
export * from './mongo.config';
export * from './openrouter.config';
export * from './realtime.config';
export * from './redis.config';
export * from './validate-env';
