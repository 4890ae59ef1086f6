import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DomainError } from '@app/common';
import { MongoConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { ContentRepository } from '../content.repository';
import { ContentItem } from '../content.types';
import { ContentExportService } from './content-export.service';
import { ExportSeats } from './export-seats';
import { streamOf as stream, textOf } from './export.fixture';
import { EXPORT_MAX_IDS } from './content-export.types';

const newId = (): string => randomBytes(12).toString('hex');
const userId = newId();
const exportedAt = new Date('2026-11-24T12:00:00.000Z');

const contentStub = {
  at: (createdAt: string, overrides: Partial<ContentItem> = {}): ContentItem => ({
    _id: newId(),
    userId,
    title: 'Title',
    type: 'Blog Post Outline',
    body: 'Body',
    createdAt: new Date(createdAt),
    updatedAt: new Date(createdAt),
    ...overrides,
  }),
};

async function json(readable: Readable): Promise<{ items: ContentItem[]; truncated: boolean; count: number; limit?: number }> {
  return JSON.parse(await textOf(readable));
}

async function domainError(promise: Promise<unknown>): Promise<{ code: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe(ContentExportService.name, () => {
  let sut: ContentExportService;
  let contents: jest.Mocked<ContentRepository>;
  let seats: jest.Mocked<ExportSeats>;
  const release = jest.fn();

  beforeEach(() => {
    contents = strictMock(ContentRepository);
    seats = strictMock(ExportSeats);
    release.mockReset();
    seats.take.mockResolvedValue(release);
    sut = new ContentExportService(contents, seats, { exportMaxItems: 2 } as MongoConfig);
  });

  describe('export seats', () => {
    it('gives the seat back when the download ends, and when choosing the items fails', async () => {
      contents.page.mockResolvedValueOnce({ items: stream([contentStub.at('2026-11-03T00:00:00Z')]) });
      const download = await sut.exportLibrary(userId, { format: 'json' });
      expect(release).not.toHaveBeenCalled();
      for await (const _chunk of download.stream) void _chunk;
      await new Promise((resolve) => setImmediate(resolve));
      expect(release).toHaveBeenCalledTimes(1);

      contents.page.mockRejectedValueOnce(new Error('connection closed'));
      await expect(sut.exportLibrary(userId, { format: 'pdf' })).rejects.toThrow('connection closed');
      expect(release).toHaveBeenCalledTimes(2);
    });

    it('refuses an export beyond the seats before reading anything', async () => {
      seats.take.mockRejectedValueOnce(new DomainError('RATE_LIMITED', 'You can run at most 2 exports at a time; wait for one to finish'));
      expect(await domainError(sut.exportLibrary(userId, { format: 'pdf' }))).toMatchObject({ code: 'RATE_LIMITED' });
      expect(contents.page).not.toHaveBeenCalled();
    });
  });

  describe('exportLibrary', () => {
    it('streams the newest EXPORT_MAX_ITEMS items of the search as a dated download', async () => {
      const items = [contentStub.at('2026-11-03T00:00:00Z'), contentStub.at('2026-11-02T00:00:00Z')];
      contents.page.mockResolvedValueOnce({ items: stream(items) });

      const file = await sut.exportLibrary(userId, { format: 'json', search: 'tips' }, exportedAt);

      expect(contents.page).toHaveBeenCalledWith(userId, { search: 'tips', limit: 2 });
      expect(file).toMatchObject({
        contentType: 'application/json; charset=utf-8',
        disposition: 'attachment; filename="library-2026-11-24.json"',
        filename: 'library-2026-11-24.json',
        truncated: false,
      });
      expect((await json(file.stream)).items.map((item) => item._id)).toEqual(items.map((item) => item._id));
    });

    it('says it is truncated when more items follow the limit, and never writes more than the limit', async () => {
      // An item inserted while the cursor is read makes a page one longer.
      const items = [contentStub.at('2026-11-04T00:00:00Z'), contentStub.at('2026-11-03T00:00:00Z'), contentStub.at('2026-11-02T00:00:00Z')];
      contents.page.mockResolvedValueOnce({ items: stream(items), next: { createdAt: items[1].createdAt, id: items[1]._id } });

      const file = await sut.exportLibrary(userId, { format: 'json', search: '' }, exportedAt);

      expect(contents.page).toHaveBeenCalledWith(userId, { search: undefined, limit: 2 });
      expect(file.truncated).toBe(true);
      expect(await json(file.stream)).toMatchObject({ truncated: true, limit: 2, count: 2 });
    });

    it.each([
      ['markdown', 'text/markdown; charset=utf-8', 'library-2026-11-24.md'],
      ['pdf', 'application/pdf', 'library-2026-11-24.pdf'],
    ] as const)('answers %s with its type and file name', async (format, contentType, filename) => {
      contents.page.mockResolvedValueOnce({ items: stream([]) });
      const file = await sut.exportLibrary(userId, { format }, exportedAt);
      expect(file).toMatchObject({ contentType, filename, disposition: `attachment; filename="${filename}"` });
      file.stream.destroy();
    });

    it('exports the listed ids the caller owns, newest first, each once, reading each item again as it is written', async () => {
      const older = contentStub.at('2026-11-01T00:00:00Z');
      const newer = contentStub.at('2026-11-05T00:00:00Z');
      const othersOrMissing = newId();
      const owned = new Map([older, newer].map((item) => [item._id, item]));
      contents.findOwned.mockImplementation(async (_user, id) => owned.get(id.toLowerCase()));

      const file = await sut.exportLibrary(userId, { format: 'json', ids: [older._id, othersOrMissing, newer._id.toUpperCase(), older._id] }, exportedAt);
      const written = await json(file.stream);

      expect(written.items.map((item) => item._id)).toEqual([newer._id, older._id]);
      expect(written).toMatchObject({ truncated: false, count: 2 });
      expect(contents.findOwned.mock.calls.map(([user, id]) => [user, id])).toEqual([
        [userId, older._id],
        [userId, othersOrMissing],
        [userId, newer._id],
        [userId, newer._id],
        [userId, older._id],
      ]);
    });

    it('keeps the newest EXPORT_MAX_ITEMS of the listed ids and says it stopped short', async () => {
      const items = ['2026-11-01', '2026-11-03', '2026-11-02'].map((day) => contentStub.at(`${day}T00:00:00Z`));
      contents.findOwned.mockImplementation(async (_user, id) => items.find((item) => item._id === id));

      const file = await sut.exportLibrary(userId, { format: 'json', ids: items.map((item) => item._id) }, exportedAt);

      expect(file.truncated).toBe(true);
      expect((await json(file.stream)).items.map((item) => item.createdAt)).toEqual(['2026-11-03T00:00:00.000Z', '2026-11-02T00:00:00.000Z']);
    });

    it('leaves out an item deleted between choosing and writing', async () => {
      const item = contentStub.at('2026-11-01T00:00:00Z');
      contents.findOwned.mockResolvedValueOnce(item).mockResolvedValueOnce(undefined);

      const written = await json((await sut.exportLibrary(userId, { format: 'json', ids: [item._id] }, exportedAt)).stream);
      expect(written).toMatchObject({ items: [], count: 0 });
    });

    it.each([
      ['format', { format: 'docx' }],
      ['ids', { format: 'json', ids: [newId()], search: 'x' }],
      ['ids', { format: 'json', ids: [] }],
      ['ids', { format: 'json', ids: Array.from({ length: EXPORT_MAX_IDS + 1 }, newId) }],
    ])('refuses a bad %s without reading anything', async (field, query) => {
      const error = await domainError(sut.exportLibrary(userId, query as never));
      expect(error).toEqual({ code: 'INVALID_ARGUMENT', details: { details: [{ field, errors: [expect.stringContaining(field)] }] } });
    });
  });

  describe('exportItem', () => {
    it('exports one owned item under its title', async () => {
      const item = contentStub.at('2026-11-01T00:00:00Z', { title: 'Crème brûlée' });
      contents.findOwned.mockResolvedValueOnce(item);

      const file = await sut.exportItem(userId, item._id, 'json', exportedAt);

      expect(contents.findOwned).toHaveBeenCalledWith(userId, item._id);
      expect(file).toMatchObject({
        filename: 'creme-brulee.json',
        disposition: `attachment; filename="creme-brulee.json"; filename*=UTF-8''Cr%C3%A8me%20br%C3%BBl%C3%A9e.json`,
        truncated: false,
      });
      expect(await json(file.stream)).toMatchObject({ items: [{ _id: item._id, title: 'Crème brûlée' }], count: 1 });
    });

    it("answers CONTENT_NOT_FOUND for another user's or a missing item", async () => {
      contents.findOwned.mockResolvedValueOnce(undefined);
      expect((await domainError(sut.exportItem(userId, newId(), 'pdf'))).code).toBe('CONTENT_NOT_FOUND');
    });

    it('refuses a bad format before looking the item up', async () => {
      expect((await domainError(sut.exportItem(userId, newId(), 'csv' as never))).code).toBe('INVALID_ARGUMENT');
      expect(contents.findOwned).not.toHaveBeenCalled();
    });
  });
});
