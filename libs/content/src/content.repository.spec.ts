import { randomBytes, randomUUID } from 'node:crypto';
import mongoose, { Connection, Model } from 'mongoose';
import { DomainError } from '@app/common';
import { MongoConfig } from '@app/config';
import { ContentRepository } from './content.repository';
import { Content, ContentSchema } from './content.schema';
import { ContentItem } from './content.types';
import { collect } from '@app/testing';

const config = { queryMaxTimeMs: 5000 } as MongoConfig;
const newId = (): string => randomBytes(12).toString('hex');
const fields = { title: 'Title', type: 'Product Description' as const, body: 'Body' };

// Against the suite's real FerretDB: string ids in and out, owner checks, and the unique source key.
describe(ContentRepository.name, () => {
  let connection: Connection;
  let sut: ContentRepository;
  const userId = newId();

  beforeAll(async () => {
    // A database of this spec's own on the FerretDB that jest's global setup started.
    connection = await mongoose.createConnection(`${process.env.TEST_MONGO_URI}/content_repository_${randomBytes(3).toString('hex')}`).asPromise();
    const contents = connection.model(Content.name, ContentSchema) as unknown as Model<Content>;
    await contents.init();
    sut = new ContentRepository(contents, config);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it("finds, updates and deletes the owner's item by its string id", async () => {
    const item = await sut.create(userId, fields);

    expect(await sut.findOwned(userId, item._id)).toMatchObject({ _id: item._id, userId, ...fields });
    expect(await sut.updateOwned(userId, item._id.toUpperCase(), { title: 'New' })).toMatchObject({ _id: item._id, title: 'New' });
    expect(await sut.deleteOwned(userId, item._id)).toBe(true);
    expect(await sut.findOwned(userId, item._id)).toBeUndefined();
  });

  it("treats another user's item as missing", async () => {
    const item = await sut.create(userId, fields);
    const stranger = newId();

    expect(await sut.findOwned(stranger, item._id)).toBeUndefined();
    expect(await sut.updateOwned(stranger, item._id, { title: 'Taken' })).toBeUndefined();
    expect(await sut.deleteOwned(stranger, item._id)).toBe(false);
    expect((await sut.findOwned(userId, item._id))?.title).toBe('Title');
  });

  it.each(['not-an-id', '123', '{"$ne":null}'])('matches nothing for the id %s', async (id) => {
    expect(await sut.findOwned(userId, id)).toBeUndefined();
    expect(await sut.updateOwned(userId, id, { title: 'x' })).toBeUndefined();
    expect(await sut.deleteOwned(userId, id)).toBe(false);
    expect(await collect((await sut.page(id, { limit: 10 })).items)).toEqual([]);
  });

  it('keeps one item per job: a second insert answers undefined and the first is found by the job', async () => {
    const jobId = randomUUID();
    const first = await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId, usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } });

    expect(first).toMatchObject({ sourceJobId: jobId, usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } });
    expect(first).not.toHaveProperty('sourceKey');
    expect(await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId })).toBeUndefined();
    expect(await sut.findFromJob(userId, jobId)).toEqual(first);
  });

  it("keeps one item per variant of a job, the first variant under the job's own key", async () => {
    const jobId = randomUUID();
    const first = await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId });
    const second = await sut.insertFromJob({ ...fields, body: 'Second', userId, sourceJobId: jobId, variant: 1 });

    expect(second).toMatchObject({ body: 'Second', sourceJobId: jobId });
    expect(await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId, variant: 1 })).toBeUndefined();
    expect(await sut.findFromJob(userId, jobId, 0)).toEqual(first);
    expect(await sut.findFromJob(userId, jobId, 1)).toEqual(second);
  });

  describe('page', () => {
    const ids = async (page: Promise<{ items: AsyncIterable<ContentItem> }>) => (await collect((await page).items)).map((item) => item._id);
    let owner: string;
    let items: ContentItem[];

    beforeAll(async () => {
      owner = newId();
      items = [];
      for (const title of ['One', 'Two', 'Three', 'Four', 'Five']) {
        items.unshift(await sut.create(owner, { ...fields, title }));
        // createdAt decides the order; a tie would fall back to the ids.
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    });

    it('lists newest first, a page at a time, pointing at the last item when more follow', async () => {
      const first = await sut.page(owner, { limit: 2 });
      expect((await collect(first.items)).map((item) => item._id)).toEqual([items[0]._id, items[1]._id]);
      expect(first.next).toEqual({ createdAt: items[1].createdAt, id: items[1]._id });

      const last = await sut.page(owner, { limit: 3, after: first.next });
      expect((await collect(last.items)).map((item) => item._id)).toEqual(items.slice(2).map((item) => item._id));
      expect(last.next).toBeUndefined();
      expect(await ids(sut.page(owner, { limit: 10, search: 'THR' }))).toEqual([items[2]._id]);
    });

    it('loses no item to one inserted between finding a page and reading it', async () => {
      const page = await sut.page(owner, { limit: 2 });
      const inserted = await sut.create(owner, { ...fields, title: 'Late' });

      // The newer item may or may not be on this page (its first batch is read at once); none before the edge is lost.
      expect((await collect(page.items)).map((item) => item._id).filter((id) => id !== inserted._id)).toEqual([items[0]._id, items[1]._id]);
      expect(await ids(sut.page(owner, { limit: 10, after: page.next }))).toEqual(items.slice(2).map((item) => item._id));
      await sut.deleteOwned(owner, inserted._id);
    });
  });

  it('reports a query past the time limit as DEPENDENCY_UNAVAILABLE, not as a bug', async () => {
    const timedOut = Object.assign(new Error('operation exceeded time limit'), { code: 50 });
    const query = { sort: () => query, skip: () => query, limit: () => query, maxTimeMS: () => query, lean: () => Promise.reject(timedOut) };
    const contents = { find: () => query } as unknown as Model<Content>;

    const error = await new ContentRepository(contents, config).page(userId, { search: 'slow', limit: 10 }).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
