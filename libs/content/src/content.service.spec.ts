import { randomBytes } from 'node:crypto';
import { DomainError } from '@app/common';
import { ContentRepository } from './content.repository';
import { ContentService } from './content.service';
import { ContentItem } from './content.types';
import { strictMock } from '@app/testing';

/** 24 hex digits, the shape of a stored id. */
const newId = (): string => randomBytes(12).toString('hex');
const userId = newId();
const itemId = newId();

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
      const items = [contentStub.manual({ _id: newId() }), contentStub.manual(), contentStub.manual({ _id: newId() })];
      contents.list.mockResolvedValueOnce(items);

      const page = await sut.list(userId, { limit: 2, search: 'x' });

      expect(contents.list).toHaveBeenCalledWith(userId, { search: 'x', limit: 3, after: undefined });
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
        after: { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: itemId },
      });
    });

    it.each([
      ['not base64url', 'no pe'],
      ['not a position', Buffer.from('nope').toString('base64url')],
      ['an impossible date', Buffer.from(`2026-13-45T03:04:05.678Z|${itemId}`).toString('base64url')],
    ])('refuses a cursor that is %s without querying', async (_name, cursor) => {
      expect(await domainCode(sut.list(userId, { cursor }))).toBe('INVALID_ARGUMENT');
      expect(contents.list).not.toHaveBeenCalled();
    });
  });

  describe('update', () => {
    it('passes on only title, type and body', async () => {
      contents.updateOwned.mockResolvedValueOnce(contentStub.manual({ title: 'New' }));
      const changes = { title: 'New', userId: 'someone-else', createdAt: new Date(0) } as never;

      await sut.update(userId, itemId, changes);

      expect(contents.updateOwned).toHaveBeenCalledWith(userId, itemId, { title: 'New' });
    });

    it('refuses an update without any editable field', async () => {
      expect(await domainCode(sut.update(userId, itemId, {}))).toBe('INVALID_ARGUMENT');
    });

    it('answers not found when the repository finds no such item of the caller', async () => {
      contents.updateOwned.mockResolvedValueOnce(undefined);
      contents.findOwned.mockResolvedValueOnce(undefined);
      contents.deleteOwned.mockResolvedValueOnce(false);

      expect(await domainCode(sut.update(userId, 'not-an-id', { title: 'x' }))).toBe('CONTENT_NOT_FOUND');
      expect(await domainCode(sut.get(userId, '{"$ne":null}'))).toBe('CONTENT_NOT_FOUND');
      expect(await domainCode(sut.remove(userId, '123'))).toBe('CONTENT_NOT_FOUND');
    });
  });

  describe('remove', () => {
    it('answers the id as stored', async () => {
      contents.deleteOwned.mockResolvedValueOnce(true);

      expect(await sut.remove(userId, itemId.toUpperCase())).toEqual({ id: itemId });
      expect(contents.deleteOwned).toHaveBeenCalledWith(userId, itemId.toUpperCase());
    });
  });

  describe('saveFromJob', () => {
    const input = { userId, jobId: 'job-1', title: ' Generated ', type: 'Product Description' as const, body: 'Text', provider: 'offline' };

    it("inserts the trimmed item as the job's own", async () => {
      const item = contentStub.manual({ sourceJobId: 'job-1' });
      contents.insertFromJob.mockResolvedValueOnce(item);

      expect(await sut.saveFromJob(input)).toEqual({ item, created: true });
      expect(contents.insertFromJob).toHaveBeenCalledWith(expect.objectContaining({ userId, sourceJobId: 'job-1', title: 'Generated', provider: 'offline' }));
    });

    it('returns the existing item when the job was already saved', async () => {
      const item = contentStub.manual({ sourceJobId: 'job-1' });
      contents.insertFromJob.mockResolvedValueOnce(undefined);
      contents.findFromJob.mockResolvedValueOnce(item);

      expect(await sut.saveFromJob(input)).toEqual({ item, created: false });
      expect(contents.findFromJob).toHaveBeenCalledWith(userId, 'job-1');
    });

    it('refuses an empty body before writing', async () => {
      expect(await domainCode(sut.saveFromJob({ ...input, body: '' }))).toBe('INVALID_ARGUMENT');
      expect(contents.insertFromJob).not.toHaveBeenCalled();
    });
  });
});
