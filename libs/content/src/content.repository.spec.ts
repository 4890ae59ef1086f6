import { randomBytes, randomUUID } from 'node:crypto';
import mongoose, { Connection, Model } from 'mongoose';
import { DomainError } from '@app/common';
import { MongoConfig } from '@app/config';
import { ContentRepository } from './content.repository';
import { Content, ContentSchema } from './content.schema';

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
    const contents = connection.model(Content.name, ContentSchema);
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
    expect(await sut.list(id, { limit: 10 })).toEqual([]);
  });

  it('keeps one item per job: a second insert answers undefined and the first is found by the job', async () => {
    const jobId = randomUUID();
    const first = await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId, usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } });

    expect(first).toMatchObject({ sourceJobId: jobId, usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } });
    expect(first).not.toHaveProperty('sourceKey');
    expect(await sut.insertFromJob({ ...fields, userId, sourceJobId: jobId })).toBeUndefined();
    expect(await sut.findFromJob(userId, jobId)).toEqual(first);
  });

  it('lists newest first after a position', async () => {
    const owner = newId();
    const older = await sut.create(owner, { ...fields, title: 'Older' });
    // createdAt decides the order; a tie would fall back to the ids.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await sut.create(owner, { ...fields, title: 'Newer' });

    expect((await sut.list(owner, { limit: 10 })).map((item) => item._id)).toEqual([newer._id, older._id]);
    expect((await sut.list(owner, { limit: 10, after: { createdAt: newer.createdAt, id: newer._id } })).map((item) => item._id)).toEqual([older._id]);
    expect((await sut.list(owner, { limit: 10, search: 'OLD' })).map((item) => item._id)).toEqual([older._id]);
  });

  it('reports a query past the time limit as DEPENDENCY_UNAVAILABLE, not as a bug', async () => {
    const timedOut = Object.assign(new Error('operation exceeded time limit'), { code: 50 });
    const query = { sort: () => query, limit: () => query, maxTimeMS: () => query, lean: () => Promise.reject(timedOut) };
    const contents = { find: () => query } as unknown as Model<Content>;

    const error = await new ContentRepository(contents, config).list(userId, { search: 'slow', limit: 10 }).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
