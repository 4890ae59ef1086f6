import { randomBytes } from 'node:crypto';
import { DomainError } from '@app/common';
import { ContentRepository } from './content.repository';
import { ContentService } from './content.service';
import { ContentItem } from './content.types';
import { MongoConfig } from '@app/config';
import { collect, strictMock } from '@app/testing';

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

const config = { listMaxItems: 10_000 } as MongoConfig;

describe(ContentService.name, () => {
  let sut: ContentService;
  let contents: jest.Mocked<ContentRepository>;

  beforeEach(() => {
    contents = strictMock(ContentRepository);
    sut = new ContentService(contents, config);
  });

  describe('list', () => {
    const items = [contentStub.manual({ _id: newId() }), contentStub.manual()];
    const stream = async function* () {
      yield* items;
    };

    it('asks for a page of `limit` and turns the position after it into a cursor', async () => {
      contents.page.mockResolvedValueOnce({ items: stream(), next: { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: itemId } });

      const page = await sut.list(userId, { limit: 2, search: 'x' });

      expect(contents.page).toHaveBeenCalledWith(userId, { search: 'x', limit: 2, after: undefined });
      expect(await collect(page.items)).toEqual(items);
      expect(Buffer.from(page.nextCursor!, 'base64url').toString()).toBe(`2026-01-02T03:04:05.678Z|${itemId}`);
    });

    it('asks for the whole list up to LIST_MAX_ITEMS without `limit`, from the position a cursor names', async () => {
      contents.page.mockResolvedValueOnce({ items: stream() });
      const cursor = Buffer.from(`2026-01-02T03:04:05.678Z|${itemId}`).toString('base64url');

      expect((await sut.list(userId, { cursor })).nextCursor).toBeUndefined();
      expect(contents.page).toHaveBeenCalledWith(expect.anything(), {
        search: undefined,
        limit: config.listMaxItems,
        after: { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: itemId },
      });
    });

    it.each([
      ['not base64url', 'no pe'],
      ['not a position', Buffer.from('nope').toString('base64url')],
      ['an impossible date', Buffer.from(`2026-13-45T03:04:05.678Z|${itemId}`).toString('base64url')],
    ])('refuses a cursor that is %s without querying', async (_name, cursor) => {
      expect(await domainCode(sut.list(userId, { cursor }))).toBe('INVALID_ARGUMENT');
      expect(contents.page).not.toHaveBeenCalled();
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
      expect(contents.findFromJob).toHaveBeenCalledWith(userId, 'job-1', undefined);
    });

    it('refuses an empty body before writing', async () => {
      expect(await domainCode(sut.saveFromJob({ ...input, body: '' }))).toBe('INVALID_ARGUMENT');
      expect(contents.insertFromJob).not.toHaveBeenCalled();
    });
  });
});
