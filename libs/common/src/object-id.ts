import { isValidObjectId, Types } from 'mongoose';

/**
 * For repositories, which take ids as strings: anything that is not an ObjectId yields undefined, so a
 * route id such as `123` or `{"$ne":null}` finds nothing (404) instead of reaching the driver (500).
 */
export function parseObjectId(id: unknown): Types.ObjectId | undefined {
  return typeof id === 'string' && /^[0-9a-f]{24}$/i.test(id) && isValidObjectId(id) ? new Types.ObjectId(id) : undefined;
}
