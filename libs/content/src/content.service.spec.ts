import { Types } from 'mongoose';
import { DomainError } from '@app/common';
import { ContentRepository } from './content.repository';
import { ContentService } from './content.service';
import { ContentItem } from './content.types';
import { strictMock } from '@app/testing';

const userId = new Types.ObjectId().toHexString();
const itemId = new Types.ObjectId().toHexString();

const contentStub = {
  manual: (overrides: Partial<ContentItem> = {}): ContentItem => ({
    _id: itemId,
    userId,
    title: 'Title',
    type: 'Blog Post Outline',
    body: 'Body',
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    updatedAt: new Date('2026-01-02T03:04:05.678Z'),
    ...overrides,
  }),
};

async function domainCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe(ContentService.name, () => {
  let sut: ContentService;
  let contents: jest.Mocked<ContentRepository>;

  beforeEach(() => {
    contents = strictMock(ContentRepository);
    sut = new ContentService(contents);
  });

  describe('list', () => {
    it('asks for one extra item and returns a cursor only when it exists', async () => {
      const items = [contentStub.manual({ _id: new Types.ObjectId().toHexString() }), contentStub.manual(), contentStub.manual({ _id: new Types.ObjectId().toHexString() })];
      contents.list.mockResolvedValueOnce(items);

      const page = await sut.list(userId, { limit: 2, search: 'x' });

      expect(contents.list).toHaveBeenCalledWith(new Types.ObjectId(userId), { search: 'x', limit: 3, after: undefined });
      expect(page.items).toEqual(items.slice(0, 2));
      expect(Buffer.from(page.nextCursor!, 'base64url').toString()).toBe(`2026-01-02T03:04:05.678Z|${itemId}`);
    });

    it('turns a cursor back into the position it came from', async () => {
      contents.list.mockResolvedValueOnce([]);
      const cursor = Buffer.from(`2026-01-02T03:04:05.678Z|${itemId}`).toString('base64url');

      expect(await sut.list(userId, { cursor })).toEqual({ items: [] });
      expect(contents.list).toHaveBeenCalledWith(expect.anything(), {
        search: undefined,
        limit: 51,
        after: { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: new Types.ObjectId(itemId) },
      });
    });

    it.each([
      ['a bad cursor', { cursor: 'nope' }],
      ['a zero limit', { limit: 0 }],
      ['a huge limit', { limit: 101 }],
      ['a long search', { search: 'a'.repeat(201) }],
    ])('refuses %s without querying', async (_name, options) => {
      expect(await domainCode(sut.list(userId, options))).toBe('INVALID_ARGUMENT');
      expect(contents.list).not.toHaveBeenCalled();
    });

    it('reports a search over the time limit as unavailable, not as a bug', async () => {
      contents.list.mockRejectedValueOnce(Object.assign(new Error('operation exceeded time limit'), { code: 50 }));
      expect(await domainCode(sut.list(userId, { search: 'slow' }))).toBe('DEPENDENCY_UNAVAILABLE');
    });
  });

  describe('update', () => {
    it('passes on only title, type and body', async () => {
      contents.updateOwned.mockResolvedValueOnce(contentStub.manual({ title: 'New' }));
      const changes = { title: 'New', userId: 'someone-else', createdAt: new Date(0) } as never;

      await sut.update(userId, itemId, changes);

      expect(contents.updateOwned).toHaveBeenCalledWith(new Types.ObjectId(userId), new Types.ObjectId(itemId), { title: 'New' });
    });

    it('refuses an update without any editable field', async () => {
      expect(await domainCode(sut.update(userId, itemId, {}))).toBe('INVALID_ARGUMENT');
    });

    it('answers not found for an invalid id without querying', async () => {
      expect(await domainCode(sut.update(userId, 'not-an-id', { title: 'x' }))).toBe('CONTENT_NOT_FOUND');
      expect(await domainCode(sut.get(userId, '{"$ne":null}'))).toBe('CONTENT_NOT_FOUND');
      expect(await domainCode(sut.remove(userId, '123'))).toBe('CONTENT_NOT_FOUND');
    });
  });

  describe('saveFromJob', () => {
    const input = { userId, jobId: 'job-1', title: ' Generated ', type: 'Product Description' as const, body: 'Text', provider: 'offline' };

    it('inserts under the job source key', async () => {
      const item = contentStub.manual({ sourceJobId: 'job-1' });
      contents.insert.mockResolvedValueOnce(item);

      expect(await sut.saveFromJob(input)).toEqual({ item, created: true });
      expect(contents.insert).toHaveBeenCalledWith(expect.objectContaining({ sourceKey: 'job:job-1', sourceJobId: 'job-1', title: 'Generated', provider: 'offline' }));
    });

    it('returns the existing item when the job was already saved', async () => {
      const item = contentStub.manual({ sourceJobId: 'job-1' });
      contents.insert.mockResolvedValueOnce(undefined);
      contents.findBySourceKey.mockResolvedValueOnce(item);

      expect(await sut.saveFromJob(input)).toEqual({ item, created: false });
      expect(contents.findBySourceKey).toHaveBeenCalledWith(new Types.ObjectId(userId), 'job:job-1');
    });

    it('refuses an empty body before writing', async () => {
      expect(await domainCode(sut.saveFromJob({ ...input, body: '' }))).toBe('INVALID_ARGUMENT');
      expect(contents.insert).not.toHaveBeenCalled();
    });
  });
});
