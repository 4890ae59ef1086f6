import { isValidObjectId, Types } from 'mongoose';

/** Parses a route id; anything that is not an ObjectId yields undefined, so callers answer 404 rather than 500. */
export function parseObjectId(id: unknown): Types.ObjectId | undefined {
  return typeof id === 'string' && /^[0-9a-f]{24}$/i.test(id) && isValidObjectId(id) ? new Types.ObjectId(id) : undefined;
}
