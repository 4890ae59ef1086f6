import { parse } from 'csv-parse/sync';
import { Socket } from 'socket.io-client';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { connectSocket, disconnectAll, nextEvent, receivedEvents } from './support/socket';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

type User = { token: string; id: string };

const BATCH_CAP = 25;

/**
 * Issue 12, batches end to end (offline provider): JSON and CSV batches, all or nothing, Idempotency-Key,
 * their own cap, progress and completion over Socket.IO, cancel and export. Then fair scheduling of a
 * batch beside another user's job under a fast limiter.
 */
describe('Batch generation (API + worker)', () => {
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let env: Record<string, string>;
  let user: User;

  const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}, as: User = user) => http(api.url, method, path, { token: as.token, ...options });
  const postCsv = (csv: string, as: User = user, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/generate-content/batch`, { method: 'POST', headers: { authorization: `Bearer ${as.token}`, 'content-type': 'text/csv', ...headers }, body: csv }).then(async (response) => ({
      status: response.status,
      // Any JSON shape, as http() answers.
      body: (await response.json()) as any,
    }));
  const batchDone = (batchId: string, as: User = user) =>
    waitFor(
      async () => {
        const batch = (await call('GET', `/batches/${batchId}`, {}, as)).body;
        return batch.counts && batch.counts.queued + batch.counts.processing === 0 ? batch : undefined;
      },
      `batch ${batchId} to end`,
      30_000,
    );

  beforeAll(async () => {
    env = testEnv('batch', { RATE_LIMIT_MAX: '0', MAX_ACTIVE_JOBS_PER_USER: '3', MAX_BATCH_JOBS_PER_USER: String(BATCH_CAP), MAX_BATCH_ITEMS: '30' });
    api = await startApi(env);
    user = await registerUser(api.url);
  });
  afterAll(async () => {
    disconnectAll();
    await worker?.stop();
    await api?.close();
  });

  describe('before any worker runs', () => {
    it('refuses a batch with a bad item, naming items[index].field, and queues nothing', async () => {
      const fresh = await registerUser(api.url);
      const response = await call(
        'POST',
        '/generate-content/batch',
        { body: { items: [{ prompt: 'fine', contentType: 'blog-post' }, { prompt: 'x', contentType: 'blog-post', options: { variants: 9 } }, { prompt: 'y' }] } },
        fresh,
      );

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        { field: 'items[1].options.variants', errors: [expect.stringContaining('options.variants')] },
        { field: 'items[2].contentType', errors: [expect.any(String)] },
      ]);
      expect((await call('GET', '/generate-content', {}, fresh)).body).toEqual([]);
      expect((await call('GET', '/batches', {}, fresh)).body).toEqual([]);
      // No batch slot was kept: a batch of exactly the cap still fits.
      const full = await call('POST', '/generate-content/batch', { body: { items: Array.from({ length: BATCH_CAP }, (_, i) => ({ prompt: `p${i}`, contentType: 'blog-post' })) } }, fresh);
      expect(full.status).toBe(202);
    });

    it('names template problems per item too, and unknown fields', async () => {
      const response = await call('POST', '/generate-content/batch', {
        body: { items: [{ templateId: 'seo-blog-outline', variables: { topic: 'Desks' } }, { templateId: 'no-such-template' }, { prompt: 'x', contentType: 'blog-post', colour: 'red' }] },
      });

      expect(response.status).toBe(400);
      const fields = (response.body.details as { field: string }[]).map((detail) => detail.field);
      expect(fields).toEqual(expect.arrayContaining(['items[1].templateId', 'items[2].colour']));
      expect(fields.some((field) => field.startsWith('items[0].variables'))).toBe(true);
    });

    it('refuses a bad CSV row by its index and line, and a malformed CSV by its line', async () => {
      const fresh = await registerUser(api.url);
      const badRow = await postCsv('prompt,contentType\nfine,blog-post\n"two\nlines",poem\n', fresh);
      expect(badRow.status).toBe(400);
      expect(badRow.body.details).toEqual([{ field: 'items[1].contentType', errors: [expect.any(String)], line: 3 }]);

      const malformed = await postCsv('prompt,contentType\nfine,blog-post\ntoo,many,fields\n', fresh);
      expect(malformed.status).toBe(400);
      expect(malformed.body.details).toEqual([expect.objectContaining({ field: 'csv', line: 3 })]);
      expect((await call('GET', '/generate-content', {}, fresh)).body).toEqual([]);
    });

    it('takes text/csv on the batch route only (415 elsewhere), and too many items is 400', async () => {
      const elsewhere = await fetch(`${api.url}/generate-content`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'text/csv' }, body: 'prompt\nx\n' });
      expect(elsewhere.status).toBe(415);

      const tooMany = await call('POST', '/generate-content/batch', { body: { items: Array.from({ length: 31 }, () => ({ prompt: 'x', contentType: 'blog-post' })) } });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.details[0].field).toBe('items');

      // Past the 100 KiB of other routes (30 prompts of 4,000 characters): read, then checked item by item.
      const large = await call('POST', '/generate-content/batch', { body: { items: Array.from({ length: 30 }, (_, i) => ({ prompt: 'p'.repeat(4000), contentType: i === 29 ? 'poem' : 'blog-post' })) } });
      expect(large.status).toBe(400);
      expect(large.body.details).toEqual([{ field: 'items[29].contentType', errors: [expect.any(String)] }]);
      expect((await call('POST', '/generate-content', { body: { prompt: 'p'.repeat(110_000), contentType: 'blog-post' } })).status).toBe(413);
    });

    it('holds batch jobs to their own cap, whole batches or nothing, beside the normal cap', async () => {
      const fresh = await registerUser(api.url);
      const items = (count: number) => ({ items: Array.from({ length: count }, (_, i) => ({ prompt: `cap ${i}`, contentType: 'blog-post' })) });

      expect((await call('POST', '/generate-content/batch', { body: items(20) }, fresh)).status).toBe(202);
      const over = await call('POST', '/generate-content/batch', { body: items(6) }, fresh);
      expect(over.status).toBe(429);
      expect(over.body).toMatchObject({ error: 'TOO_MANY_ACTIVE_JOBS', limit: BATCH_CAP, cap: 'MAX_BATCH_JOBS_PER_USER' });
      expect((await call('GET', '/generate-content', {}, fresh)).body).toHaveLength(20);
      // The rest of the batch cap, and the normal cap, are still free.
      expect((await call('POST', '/generate-content/batch', { body: items(5) }, fresh)).status).toBe(202);
      expect((await call('POST', '/generate-content', { body: { prompt: 'single', contentType: 'blog-post' } }, fresh)).status).toBe(202);
    });

    it('answers a retried batch with the same Idempotency-Key with the first batch, and a different body with 422', async () => {
      const fresh = await registerUser(api.url);
      const body = { items: [{ prompt: 'idem 1', contentType: 'blog-post' }, { prompt: 'idem 2', contentType: 'social-media-caption', options: { platform: 'x' } }] };
      const headers = { 'idempotency-key': 'batch-key-1' };

      const first = await call('POST', '/generate-content/batch', { body, headers }, fresh);
      const again = await call('POST', '/generate-content/batch', { body, headers }, fresh);
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect((await call('GET', '/generate-content', {}, fresh)).body).toHaveLength(2);

      const other = await call('POST', '/generate-content/batch', { body: { items: [{ prompt: 'something else', contentType: 'blog-post' }] }, headers }, fresh);
      expect(other.status).toBe(422);
      // A single job may use the same key: the namespaces are apart.
      expect((await call('POST', '/generate-content', { body: { prompt: 'single', contentType: 'blog-post' }, headers }, fresh)).status).toBe(202);
    });

    it('cancels a whole batch: every job cancelled, batch_completed once with the counts', async () => {
      const fresh = await registerUser(api.url);
      const socket = await connectSocket(api.url, fresh.token);
      const created = await call('POST', '/generate-content/batch', { body: { items: Array.from({ length: 4 }, (_, i) => ({ prompt: `cancel ${i}`, contentType: 'blog-post' })) } }, fresh);
      const { batchId } = created.body;

      const cancelled = await call('POST', `/batches/${batchId}/cancel`, {}, fresh);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toEqual({ batchId, cancelled: 4, counts: { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 4 } });
      const completed = await nextEvent(socket, 'batch_completed', (payload) => payload.batchId === batchId);
      expect(completed.payload.counts).toEqual({ queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 4 });
      expect(completed.id).toBeDefined();

      // A second cancel finds nothing left to cancel.
      expect((await call('POST', `/batches/${batchId}/cancel`, {}, fresh)).body.cancelled).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receivedEvents(socket, ['batch_completed'])).toHaveLength(1);
    });
  });

  describe('with a worker', () => {
    let sockets: Socket[];

    beforeAll(async () => {
      worker = await startWorker(env);
      sockets = [await connectSocket(api.url, user.token), await connectSocket(api.url, user.token)];
    });

    it('runs a JSON batch to the end: jobs carry batchId, progress at most twice a second, batch_completed exactly once on every socket', async () => {
      const items = Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? { templateId: 'seo-blog-outline', variables: { topic: `Desks ${i}`, targetKeyword: 'standing desk', audience: 'remote workers' } } : { prompt: `json batch ${i}`, contentType: 'blog-post' }));
      const created = await call('POST', '/generate-content/batch', { body: { items } });
      expect(created.status).toBe(202);
      const { batchId, jobs } = created.body;
      expect(jobs).toHaveLength(20);
      expect(jobs.map((job: { index: number }) => job.index)).toEqual([...Array(20).keys()]);

      const batch = await batchDone(batchId);
      expect(batch).toMatchObject({ batchId, total: 20, counts: { queued: 0, processing: 0, completed: 20, failed: 0, cancelled: 0 } });
      expect(batch.jobs.map((job: { jobId: string }) => job.jobId)).toEqual(jobs.map((job: { jobId: string }) => job.jobId));
      expect(batch.jobs.every((job: { batchId: string; status: string }) => job.batchId === batchId && job.status === 'completed')).toBe(true);
      expect((await call('GET', `/generate-content/${jobs[4].jobId}`)).body).toMatchObject({ batchId, batchIndex: 4, templateId: 'seo-blog-outline' });

      for (const socket of sockets) {
        const completed = await nextEvent(socket, 'batch_completed', (payload) => payload.batchId === batchId, 10_000);
        expect(completed.payload.counts).toEqual({ queued: 0, processing: 0, completed: 20, failed: 0, cancelled: 0 });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const socket of sockets) {
        expect(receivedEvents(socket, ['batch_completed']).filter((event) => (event.payload as { batchId: string }).batchId === batchId)).toHaveLength(1);
        const progress = receivedEvents(socket, ['batch_progress']).filter((event) => (event.payload as { batchId: string }).batchId === batchId);
        expect(progress.length).toBeGreaterThanOrEqual(1);
        expect(progress[0].payload).toEqual({ batchId, counts: { queued: expect.any(Number), processing: expect.any(Number), completed: expect.any(Number), failed: 0, cancelled: 0 } });
        // At most twice a second: decided 500 ms apart, so over the span they arrived in there are at most
        // span / 500 ms + 1 of them (counted rather than spaced: delivery jitter moves single arrivals).
        const spanMs = progress[progress.length - 1].at - progress[0].at;
        expect(progress.length).toBeLessThanOrEqual(Math.floor(spanMs / 500) + 2);
      }

      const list = (await call('GET', '/batches')).body as { batchId: string; counts: { completed: number } }[];
      expect(list.find((entry) => entry.batchId === batchId)).toMatchObject({ total: 20, counts: { completed: 20 } });
    });

    it('runs a CSV batch (BOM, quoted commas and newlines, var: columns) and exports it as CSV and JSON', async () => {
      const csv = '\uFEFFprompt,contentType,templateId,var:topic,var:targetKeyword,var:audience\r\n' + '"Hello, ""quoted""\r\nworld",blog-post,,,,\r\n' + ',,seo-blog-outline,Chairs,ergonomic chair,office workers\r\n' + '=1+2 launch,social-media-caption,,,,\r\n';
      const created = await postCsv(csv, user, { 'content-type': 'text/csv; charset=utf-8' });
      expect(created.status).toBe(202);
      const { batchId } = created.body;
      await batchDone(batchId);

      const exported = await fetch(`${api.url}/batches/${batchId}/export?format=csv`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toContain('text/csv');
      expect(exported.headers.get('content-disposition')).toBe(`attachment; filename="batch-${batchId}.csv"`);
      const rows = parse(await exported.text(), { columns: true }) as Record<string, string>[];
      expect(rows.map((row) => [row.index, row.status, row.prompt])).toEqual([
        ['0', 'completed', 'Hello, "quoted"\r\nworld'],
        ['1', 'completed', expect.stringContaining('Chairs')],
        // Formula injection defused.
        ['2', 'completed', "'=1+2 launch"],
      ]);
      expect(rows[0].generatedContent.length).toBeGreaterThan(0);

      const json = await call('GET', `/batches/${batchId}/export?format=json`);
      expect(json.status).toBe(200);
      expect(json.headers.get('content-disposition')).toBe(`attachment; filename="batch-${batchId}.json"`);
      expect(json.body).toMatchObject({ batchId, total: 3, jobs: [{ index: 0, status: 'completed', contentType: 'Blog Post Outline' }, { index: 1 }, { index: 2, prompt: '=1+2 launch', contentType: 'Social Media Caption' }] });

      expect((await call('GET', `/batches/${batchId}/export?format=xml`)).status).toBe(400);
    });

    it("hides another user's batch (404 on get, cancel and export)", async () => {
      const other = await registerUser(api.url);
      const { batchId } = (await call('POST', '/generate-content/batch', { body: { items: [{ prompt: 'mine', contentType: 'blog-post' }] } })).body;

      expect((await call('GET', `/batches/${batchId}`, {}, other)).status).toBe(404);
      expect((await call('POST', `/batches/${batchId}/cancel`, {}, other)).status).toBe(404);
      expect((await call('GET', `/batches/${batchId}/export?format=json`, {}, other)).status).toBe(404);
      expect((await call('GET', '/batches', {}, other)).body).toEqual([]);
      expect((await call('GET', '/batches/not-a-batch')).status).toBe(404);
    });
  });
});

describe('Batch fair scheduling under the global rate limit', () => {
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker | undefined;

  /** The owners ("A", "B") of the provider calls so far, in the order they started (repair requests left out). */
  const starts = () => stub.requests.filter((request) => !request.repair && request.prompt?.includes('fairbatch')).map((request) => /\b([AB])-\d+/.exec(request.prompt ?? '')?.[1]);

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    const env = testEnv('batchfair', { ...openRouterStubEnv(stub), RATE_LIMIT_MAX: '1', RATE_LIMIT_DURATION_MS: '150', WORKER_CONCURRENCY: '1' });
    api = await startApi(env);
    worker = await startWorker(env);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await stub?.close();
  });

  it("starts another user's single job within the next two starts while a batch of 30 runs", async () => {
    const [a, b] = [await registerUser(api.url), await registerUser(api.url)];
    const items = Array.from({ length: 30 }, (_, i) => ({ prompt: `fairbatch A-${i}`, contentType: 'blog-post' }));
    expect((await http(api.url, 'POST', '/generate-content/batch', { token: a.token, body: { items } })).status).toBe(202);
    await waitFor(() => (starts().length >= 2 ? true : undefined), 'the batch to be served');

    expect((await http(api.url, 'POST', '/generate-content', { token: b.token, body: { prompt: 'fairbatch B-1', contentType: 'blog-post' } })).status).toBe(202);
    // Counted from when B's job exists: starts while its request was on its way are not its wait.
    const startedBefore = starts().length;
    await waitFor(() => (starts().includes('B') ? true : undefined), "B's job to start", 10_000);

    expect(starts().indexOf('B') - startedBefore).toBeLessThanOrEqual(1);
    expect(starts().filter((owner) => owner === 'A').length).toBeLessThan(30);
  });
});
