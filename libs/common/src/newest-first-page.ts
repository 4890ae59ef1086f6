import mongoose, { Model } from 'mongoose';
import { PagePosition } from './page-cursor';

export interface NewestFirstQuery<Doc, Item> {
  /** The caller's filter (owner, search); the page bounds are added to it. */
  filter: Record<string, unknown>;
  /** Items per page: the client's `limit`, or the server's ceiling for a whole list. */
  limit: number;
  /** Continue after this item (the previous page's cursor). */
  after?: PagePosition;
  /** The stored form of an item id (an ObjectId, or the string itself). */
  toId: (id: string) => unknown;
  toItem: (doc: Doc) => Item;
  projection?: Record<string, 0 | 1>;
  maxTimeMs?: number;
}

export interface NewestFirstPage<Item> {
  /** Read from the database as the response is written, so a long list never sits in memory whole. */
  items: AsyncIterable<Item>;
  /** The page's last item, when more follow it. */
  next?: PagePosition;
}

const BATCH_SIZE = 200;

/**
 * One page of a newest-first list (by createdAt, then _id). A first small query finds the page's last item
 * and whether another follows; the items are then streamed down to and including that item, so an item
 * inserted meanwhile makes the page longer by one rather than pushing an item past the cursor unseen.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any collection; `toItem` types what it reads
export async function newestFirstPage<Doc, Item>(model: Model<any>, query: NewestFirstQuery<Doc, Item>): Promise<NewestFirstPage<Item>> {
  const sort = { createdAt: -1 as const, _id: -1 as const };
  const conditions: Record<string, unknown>[] = [query.filter];
  if (query.after) conditions.push(beyond(query.after, query.toId, '$lt'));
  const edge = await withTimeLimit(
    model
      .find(and(conditions), { _id: 1, createdAt: 1 })
      .sort(sort)
      .skip(query.limit - 1)
      .limit(2),
    query.maxTimeMs,
  ).lean<Array<{ _id: unknown; createdAt: Date }>>();
  const last = edge[0] ? { createdAt: edge[0].createdAt, id: String(edge[0]._id) } : undefined;
  if (last) conditions.push(beyond(last, query.toId, '$gte'));
  const cursor = withTimeLimit(model.find(and(conditions), query.projection).sort(sort), query.maxTimeMs).lean().cursor({ batchSize: BATCH_SIZE });
  // The first batch is read here, so a query that fails at once (down, too slow) fails the request like any other.
  const items = mapped(cursor, query.toItem)[Symbol.asyncIterator]();
  const first = await items.next();
  return { items: resumed(first, items), next: edge.length === 2 ? last : undefined };
}

/** The rest of an iteration whose first step was already taken. */
async function* resumed<Item>(first: IteratorResult<Item>, rest: AsyncIterator<Item>): AsyncIterable<Item> {
  for (let step = first; !step.done; step = await rest.next()) yield step.value;
}

/** A page with nothing on it. */
export const EMPTY_PAGE: NewestFirstPage<never> = { items: { async *[Symbol.asyncIterator]() {} } };

/** Items strictly after `position` in newest-first order ($lt), or down to and including it ($gte). */
function beyond(position: PagePosition, toId: (id: string) => unknown, operator: '$lt' | '$gte'): Record<string, unknown> {
  const newer = operator === '$lt' ? '$lt' : '$gt';
  // Our own operators: trusted, so sanitizeFilter does not turn them into $eq.
  return {
    $or: [{ createdAt: mongoose.trusted({ [newer]: position.createdAt }) }, { createdAt: position.createdAt, _id: mongoose.trusted({ [operator]: toId(position.id) }) }],
  };
}

function and(conditions: Record<string, unknown>[]): Record<string, unknown> {
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

function withTimeLimit<Q extends { maxTimeMS(ms: number): Q }>(query: Q, maxTimeMs: number | undefined): Q {
  return maxTimeMs === undefined ? query : query.maxTimeMS(maxTimeMs);
}

async function* mapped<Doc, Item>(docs: AsyncIterable<unknown>, toItem: (doc: Doc) => Item): AsyncIterable<Item> {
  for await (const doc of docs) yield toItem(doc as Doc);
}
