export * from './content-type';
export * from './database.module';
export * from './dependency-errors';
export * from './domain-error';
export * from './duplicate-key';
export * from './object-id';
export * from './redis.connection';
export * from './redis.module';
