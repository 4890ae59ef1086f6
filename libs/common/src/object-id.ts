import { isValidObjectId, Types } from 'mongoose';
import { DomainError } from './domain-error';

/**
 * For repositories, which take ids as strings: anything that is not an ObjectId yields undefined, so a
 * route id such as `123` or `{"$ne":null}` finds nothing (404) instead of reaching the driver (500).
 */
export function parseObjectId(id: unknown): Types.ObjectId | undefined {
  return typeof id === 'string' && /^[0-9a-f]{24}$/i.test(id) && isValidObjectId(id) ? new Types.ObjectId(id) : undefined;
}

/** The owner of a new document; an id that is not one is refused like any other bad argument. */
export function ownerObjectId(userId: string): Types.ObjectId {
  const owner = parseObjectId(userId);
  if (!owner) throw new DomainError('INVALID_ARGUMENT', 'userId is not a valid id');
  return owner;
}

/** Whether a stored owner is this user (repositories look documents up by `_id` alone, then check the owner here). */
export function isOwnedBy(owner: Types.ObjectId, userId: string): boolean {
  return owner.toHexString() === userId.toLowerCase();
}
