import { registerAs } from '@nestjs/config';
import { Matches } from 'class-validator';
import { IntVar, validateEnv } from './validate-env';

class MongoEnv {
  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'MONGO_URI must be a mongodb:// or mongodb+srv:// URI' })
  MONGO_URI = 'mongodb://127.0.0.1:27017/ai-content';

  @IntVar('MONGO_SERVER_SELECTION_TIMEOUT_MS', 100)
  MONGO_SERVER_SELECTION_TIMEOUT_MS = 2000;

  @IntVar('SEARCH_MAX_TIME_MS', 10)
  SEARCH_MAX_TIME_MS = 2000;

  /** A list asked for without `limit` (GET /generate-content, GET /content) returns at most this many items, then a Link to the rest. */
  @IntVar('LIST_MAX_ITEMS', 1, 1_000_000)
  LIST_MAX_ITEMS = 10_000;

  /** A library export (GET /content/export) holds at most this many items, newest first, and says so when it stops short. */
  @IntVar('EXPORT_MAX_ITEMS', 1, 1_000_000)
  EXPORT_MAX_ITEMS = 10_000;
}

export const mongoConfig = registerAs('mongo', () => {
  const env = validateEnv(MongoEnv);
  return {
    uri: env.MONGO_URI,
    serverSelectionTimeoutMs: env.MONGO_SERVER_SELECTION_TIMEOUT_MS,
    queryMaxTimeMs: env.SEARCH_MAX_TIME_MS,
    listMaxItems: env.LIST_MAX_ITEMS,
    exportMaxItems: env.EXPORT_MAX_ITEMS,
  };
});
export type MongoConfig = ReturnType<typeof mongoConfig>;
