import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { http, jobWhen, registerUser, RunningApi, startApi } from './support/api';
import { JobStateProbe } from './support/job-state';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker } from './support/worker';

type User = { token: string; id: string };

/**
 * Issue 11 end to end with the offline provider: whole lists for clients that send no `limit` (and Links
 * that work behind a path prefix), templates and options on POST /generate-content, variants, and output
 * that keeps its content type's contract.
 */
describe('Generation controls (API + worker, offline provider)', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let user: User;
  let probe: JobStateProbe;

  const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}, as: User = user) => http(api.url, method, path, { token: as.token, ...options });
  const enqueue = async (body: Record<string, unknown>, as: User = user) => {
    const response = await call('POST', '/generate-content', { body }, as);
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const finished = (jobId: string, as: User = user) => jobWhen(api.url, as.token, jobId, ['completed', 'failed']);

  beforeAll(async () => {
    const env = testEnv('controls', { LIST_MAX_ITEMS: '20', RATE_LIMIT_MAX: '0', MAX_ACTIVE_JOBS_PER_USER: '100', LLM_ALLOWED_MODELS: 'openai/gpt-4o-mini,anthropic/claude-3.5-haiku' });
    api = await startApi(env);
    worker = await startWorker(env);
    user = await registerUser(api.url);
    probe = new JobStateProbe(env);
  });
  afterAll(async () => {
    probe?.close();
    await worker?.stop();
    await api?.close();
  });

  describe('lists', () => {
    let lister: User;
    let proxy: Server;
    let proxyUrl: string;

    beforeAll(async () => {
      lister = await registerUser(api.url);
      for (let i = 0; i < 25; i++) {
        await call('POST', '/content', { body: { title: `Item ${i}`, type: 'Product Description', body: `Body ${i}` } }, lister);
      }
      // A reverse proxy that serves the API under /api, as deployments behind a gateway do.
      proxy = createServer((request, response) => {
        const path = (request.url ?? '').replace(/^\/api(?=\/)/, '');
        fetch(`${api.url}${path}`, { headers: { authorization: request.headers.authorization ?? '' } }).then(async (upstream) => {
          response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
          response.end(Buffer.from(await upstream.arrayBuffer()));
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => proxy.close(resolve)));

    /** Follows rel="next" Links from `path`, resolving each against the URL it came from, as a browser would. */
    const followAll = async (path: string) => {
      const titles: string[] = [];
      let url: string | undefined = `${proxyUrl}${path}`;
      for (let pages = 0; url && pages < 10; pages++) {
        const response: Response = await fetch(url, { headers: { authorization: `Bearer ${lister.token}` } });
        expect(response.status).toBe(200);
        titles.push(...((await response.json()) as Array<{ title: string }>).map((item) => item.title));
        const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
        url = next && new URL(next, url).toString();
      }
      return titles;
    };

    it('returns the whole library without limit up to LIST_MAX_ITEMS, newest first, with a Link on', async () => {
      const response = await call('GET', '/content', {}, lister);

      expect(response.body.map((item: { title: string }) => item.title)).toEqual(Array.from({ length: 20 }, (_, i) => `Item ${24 - i}`));
      expect(response.headers.get('link')).toMatch(/^<content\?cursor=[\w-]+>; rel="next"$/);
    });

    it('keeps its Link working behind a path prefix, without limit and with one', async () => {
      const expected = Array.from({ length: 25 }, (_, i) => `Item ${24 - i}`);

      expect(await followAll('/api/content')).toEqual(expected);
      expect(await followAll('/api/content?limit=7')).toEqual(expected);
    });

    it('pages GET /generate-content the same way', async () => {
      const jobIds: string[] = [];
      for (let i = 0; i < 23; i++) jobIds.unshift(await enqueue({ prompt: `Job ${i}`, contentType: 'Product Description' }, lister));

      const whole = await call('GET', '/generate-content', {}, lister);
      expect(whole.body.map((job: { jobId: string }) => job.jobId)).toEqual(jobIds.slice(0, 20));
      const rest = await call('GET', `/generate-content?cursor=${whole.headers.get('x-next-cursor')}`, {}, lister);
      expect(rest.body.map((job: { jobId: string }) => job.jobId)).toEqual(jobIds.slice(20));
      expect(rest.headers.get('link')).toBeNull();

      const paged = await call('GET', '/generate-content?limit=10', {}, lister);
      expect(paged.body).toHaveLength(10);
      expect(paged.headers.get('link')).toMatch(/^<generate-content\?limit=10&cursor=[\w-]+>; rel="next"$/);
      expect((await call('GET', '/generate-content?cursor=bm9wZQ', {}, lister)).body).toMatchObject({ details: [{ field: 'cursor' }] });
    });
  });

  describe('bad input', () => {
    it.each([
      ['an unknown templateId', { templateId: 'no-such-template', variables: {} }, 'templateId'],
      ['an unknown template variable', { templateId: 'seo-blog-outline', variables: { topic: 'Desks', targetKeyword: 'desk', audience: 'anyone', colour: 'red' } }, 'variables.colour'],
      ['a missing required variable', { templateId: 'seo-blog-outline', variables: { topic: 'Desks' } }, 'variables.targetKeyword'],
      ['a model outside the allow-list', { prompt: 'x', contentType: 'blog-post', options: { model: 'openai/gpt-5-pro' } }, 'options.model'],
      ['an option of the wrong type', { prompt: 'x', contentType: 'blog-post', options: { keywords: 'desk' } }, 'options.keywords'],
      ['variants: 6', { prompt: 'x', contentType: 'blog-post', options: { variants: 6 } }, 'options.variants'],
      ['eleven keywords', { prompt: 'x', contentType: 'blog-post', options: { keywords: Array.from({ length: 11 }, (_, i) => `k${i}`) } }, 'options.keywords'],
      ['a language that is no BCP 47 tag', { prompt: 'x', contentType: 'blog-post', options: { language: 'english please' } }, 'options.language'],
      ['a platform for an outline', { prompt: 'x', contentType: 'blog-post', options: { platform: 'x' } }, 'options.platform'],
      ['an unknown option', { prompt: 'x', contentType: 'blog-post', options: { temperature: 2 } }, 'options.temperature'],
      ['no prompt and no template', { contentType: 'blog-post' }, 'prompt'],
      ['variables without a template', { prompt: 'x', contentType: 'blog-post', variables: { a: 'b' } }, 'variables'],
    ])('answers 400 naming the field for %s, queueing nothing and taking no slot', async (_case, body, field) => {
      const capped = await registerUser(api.url);
      const response = await call('POST', '/generate-content', { body, headers: { 'idempotency-key': `bad-${field}` } }, capped);

      expect(response.status).toBe(400);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect((await call('GET', '/generate-content', {}, capped)).body).toEqual([]);
      expect(await probe.slotCount(capped.id)).toBe(0);
      // The key was not used up either: the same key now queues the good request.
      expect((await call('POST', '/generate-content', { body: { prompt: 'fine', contentType: 'blog-post' }, headers: { 'idempotency-key': `bad-${field}` } }, capped)).status).toBe(202);
    });
  });

  it('renders a template into the prompt and keeps it with the templateId on the job', async () => {
    const variables = { topic: 'choosing a standing desk', targetKeyword: 'best standing desk', audience: 'remote workers' };
    const jobId = await enqueue({ templateId: 'seo-blog-outline', variables });

    const job = await finished(jobId);
    expect(job).toMatchObject({ status: 'completed', templateId: 'seo-blog-outline', contentType: 'Blog Post Outline', validation: { ok: true, problems: [] } });
    for (const value of Object.values(variables)) expect(job.prompt).toContain(value);
    expect(job.prompt).not.toMatch(/\{\{/);
    expect(job.outline.length).toBeGreaterThanOrEqual(3);
    expect(job.outline[0]).toEqual({ heading: expect.any(String), points: expect.any(Array) });
  });

  it('makes one job with several variants, the first as generatedContent, each one savable', async () => {
    const jobId = await enqueue({ prompt: 'A solar backpack for commuters', contentType: 'product-description', options: { variants: 3, tone: 'playful', keywords: ['solar', 'commute'] } });

    const job = await finished(jobId);
    expect(job.variants).toHaveLength(3);
    expect(new Set(job.variants).size).toBe(3);
    expect(job.generatedContent).toBe(job.variants[0]);
    expect(job.options).toEqual({ variants: 3, tone: 'playful', keywords: ['solar', 'commute'] });
    expect(job.product).toEqual({ headline: expect.any(String), body: expect.any(String), bullets: expect.any(Array) });
    expect(job.validation).toEqual({ ok: true, problems: [] });

    const third = await call('POST', `/generate-content/${jobId}/save`, { body: { variant: 2 } });
    expect(third.status).toBe(201);
    expect(third.body.content.body).toBe(job.variants[2]);
    const first = await call('POST', `/generate-content/${jobId}/save`, { body: {} });
    expect(first.body.content.body).toBe(job.generatedContent);
    expect(first.body.content._id).not.toBe(third.body.content._id);
    expect((await call('POST', `/generate-content/${jobId}/save`, { body: { variant: 2 } })).body.content._id).toBe(third.body.content._id);
    expect((await call('POST', `/generate-content/${jobId}/save`, { body: { variant: 4 } })).body).toMatchObject({ details: [{ field: 'variant' }] });
  });

  it.each([
    ['x', 280, 5],
    ['linkedin', 3000, 30],
  ])('keeps a caption for %s within %i characters and %i hashtags', async (platform, maxChars, maxHashtags) => {
    const jobId = await enqueue({ prompt: 'Our spring sale on hiking boots starts Monday', contentType: 'social-media-caption', options: { platform, language: 'pt-br' } });

    const job = await finished(jobId);
    expect(job.options).toEqual({ platform, language: 'pt-BR' });
    expect([...job.generatedContent].length).toBeLessThanOrEqual(maxChars);
    expect((job.generatedContent.match(/#[\p{L}\p{N}_]+/gu) ?? []).length).toBeLessThanOrEqual(maxHashtags);
    expect(job.validation).toEqual({ ok: true, problems: [] });
  });
});
