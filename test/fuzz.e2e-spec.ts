import fc from 'fast-check';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { testEnv } from './support/test-env';

/**
 * Property: no request, however hostile, gets a 5xx, and every error is JSON with a `message`.
 * Every operation of the OpenAPI document is fuzzed in turn with random path parameters, query
 * strings, headers and bodies. FUZZ_SEED replays a run (the seed is printed on failure), FUZZ_RUNS
 * sets the requests per operation.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

interface Schema {
  $ref?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
}

interface Operation {
  name: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: Record<string, Schema>;
  headerParams: string[];
  bodyFields?: Record<string, Schema>;
}

interface FuzzRequest {
  path: string;
  auth: 'valid' | 'none' | 'garbage';
  headers: Record<string, string>;
  contentType?: string;
  body?: string;
}

function operationsOf(document: { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } }): Operation[] {
  const resolve = (schema: Schema | undefined): Schema | undefined => (schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema);
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const parameters: { in: string; name: string; schema?: Schema }[] = operation.parameters ?? [];
      const body = resolve(operation.requestBody?.content?.['application/json']?.schema);
      return {
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name),
        queryParams: Object.fromEntries(parameters.filter((parameter) => parameter.in === 'query').map((parameter) => [parameter.name, parameter.schema ?? {}])),
        headerParams: parameters.filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name),
        bodyFields: body ? (body.properties ?? {}) : undefined,
      };
    }),
  );
}

/** Percent-encodes every UTF-8 byte, so lone surrogates and control characters reach the server as bytes. */
const percentEncode = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
const bytesEncoded = fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''));

const oddCharacter = fc.constantFrom('\0', '\ud800', '\udfff', '\u202e', '\ufeff', '\u0085', '\n', '"', '\\', '$', '.', '*', '(', '[', '{', '%', '&', '=', '/', 'é', '😀', '\u{10ffff}');
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: oddCharacter, maxLength: 12 }),
  fc.constantFrom('', ' ', '$ne', '{"$ne":null}', '../../etc/passwd', '__proto__', 'constructor', 'null', 'NaN', '1e309', '-0', '0x10', 'a'.repeat(5000)),
  fc.emailAddress(),
  fc.uuid(),
  fc.stringMatching(/^[0-9a-f]{24}$/),
);
const operatorObject = fc.constantFrom<object>(
  { $ne: null },
  { $gt: '' },
  { $regex: '.*' },
  { $where: 'sleep(1000)' },
  { $in: [] },
  { $exists: true },
  { $expr: { $eq: [1, 1] } },
  { __proto__: null, $ne: 1 },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  operatorObject,
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(hostileString, { maxLength: 3 }),
);
const oddKey = fc.oneof(
  fc.constantFrom('constructor', '__proto__', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '$where', '$ne', 'isAdmin', 'userId', '_id', ''),
  fc.string({ unit: oddCharacter, maxLength: 6 }),
  fc.string({ maxLength: 10 }),
);

/** Odd characters spliced into a valid text: close enough to valid to reach the deeper checks. */
const mutated = (text: string) =>
  fc.tuple(fc.nat({ max: text.length }), fc.string({ unit: oddCharacter, minLength: 1, maxLength: 3 })).map(([at, odd]) => text.slice(0, at) + odd + text.slice(at));

/** A documented field: its enum members or example (as they are or mutated), so fuzzing also gets past validation, or anything. */
function fieldValue(schema: Schema): fc.Arbitrary<unknown> {
  const plausible = [...(schema.enum ?? []), ...(schema.example === undefined ? [] : [schema.example])];
  if (plausible.length === 0) return hostileValue;
  const texts = plausible.filter((value): value is string => typeof value === 'string');
  return fc.oneof(fc.constantFrom(...plausible), ...texts.map(mutated), hostileValue);
}

const asText = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));

/** JSON text built from entries, so keys such as __proto__ go on the wire as they are. */
const objectText = (entries: [string, unknown][]) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;

function jsonBody(fields: Record<string, Schema>): fc.Arbitrary<string> {
  const shaped = fc
    .tuple(
      fc.tuple(...Object.entries(fields).map(([name, schema]) => fc.option(fieldValue(schema).map((value) => [name, value] as [string, unknown]), { nil: undefined }))),
      fc.array(fc.tuple(oddKey, hostileValue), { maxLength: 2 }),
    )
    .map(([known, extra]) => objectText([...known.filter((entry) => entry !== undefined), ...extra]));
  const deep = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);
  const junk = fc.oneof(
    hostileValue.map((value) => JSON.stringify(value) ?? 'null'),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('', '{', '{"a":1}}', '[1,]', '{"a":1,"a":2}', '\ufeff{}', 'null', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}'),
  );
  return fc.oneof({ arbitrary: shaped, weight: 4 }, { arbitrary: deep, weight: 1 }, { arbitrary: junk, weight: 2 });
}

function request(operation: Operation, knownIds: string[]): fc.Arbitrary<FuzzRequest> {
  const pathValue = fc.oneof(fc.constantFrom(...knownIds), hostileString.map(percentEncode), bytesEncoded);
  const path = fc
    .tuple(...operation.pathParams.map(() => pathValue))
    .map((values) => operation.pathParams.reduce((built, name, index) => built.replace(`{${name}}`, values[index]), operation.path));
  const queryKey = fc.oneof(fc.constantFrom(...Object.keys(operation.queryParams), 'search[$ne]', 'limit[]', 'constructor', '__proto__'), oddKey);
  const queryValue = fc.oneof(hostileString, ...Object.values(operation.queryParams).map((schema) => fieldValue(schema).map(asText)));
  const query = fc
    .array(fc.tuple(queryKey, fc.oneof(queryValue.map(percentEncode), bytesEncoded)), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([key, value]) => `${percentEncode(key)}=${value}`).join('&')}` : ''));
  const headerValue = fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((value) => value.replace(/[^\x20-\x7e]/g, ''));
  const headers = fc
    .tuple(...operation.headerParams.map((name) => fc.option(headerValue.map((value) => [name, value] as [string, string]), { nil: undefined })))
    .map((entries) => Object.fromEntries(entries.filter((entry) => entry !== undefined)));
  const body: fc.Arbitrary<Pick<FuzzRequest, 'contentType' | 'body'>> =
    operation.method === 'GET'
      ? fc.constant({})
      : fc.oneof(
          { arbitrary: jsonBody(operation.bodyFields ?? {}).map((text) => ({ contentType: 'application/json', body: text })), weight: 6 },
          { arbitrary: fc.constant({}), weight: 1 },
          {
            arbitrary: fc.record({
              contentType: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/vnd.api+json', ''),
              body: fc.oneof(fc.constant('email=a%40b.c&password=x'), fc.string({ maxLength: 40 })),
            }),
            weight: 1,
          },
        );
  return fc
    .record({ path, query, auth: fc.constantFrom<FuzzRequest['auth']>('valid', 'none', 'garbage'), headers, body })
    .map(({ path: built, query: search, auth, headers: sent, body: payload }) => ({ path: `${built}${search}`, auth, headers: sent, ...payload }));
}

describe('Fuzzing every OpenAPI operation (no 5xx, errors are JSON)', () => {
  let api: RunningApi;
  let operations: Operation[];
  let token: string;
  let knownIds: string[];

  beforeAll(async () => {
    api = await startApi(testEnv('fuzz'));
    const user = await registerUser(api.url);
    token = user.token;
    const item = await http(api.url, 'POST', '/content', { token, body: { title: 'Fuzz target', type: 'Blog Post Outline', body: 'text' } });
    const job = await http(api.url, 'POST', '/generate-content', { token, body: { prompt: 'Fuzz target', contentType: 'blog-post' } });
    knownIds = [item.body._id, job.body.jobId, user.id];
    const document = await http(api.url, 'GET', '/docs-json');
    operations = operationsOf(document.body);
  });
  afterAll(() => api.close());

  it('finds every route of the document', () => {
    expect(operations.map((operation) => operation.name)).toEqual(
      expect.arrayContaining(['POST /auth/register', 'POST /auth/login', 'GET /content', 'PUT /content/{id}', 'POST /generate-content', 'POST /generate-content/{jobId}/save', 'GET /notifications']),
    );
    expect(operations.find((operation) => operation.name === 'POST /content')?.bodyFields).toHaveProperty('title');
  });

  it(`answers every request below 500 (seed ${SEED}, ${RUNS} runs per operation)`, async () => {
    const send = (method: string, sent: FuzzRequest) => {
      const headers: Record<string, string> = { ...sent.headers };
      if (sent.auth === 'valid') headers.authorization = `Bearer ${token}`;
      if (sent.auth === 'garbage') headers.authorization = `Bearer ${token.slice(0, -4)}AAAA`;
      if (sent.contentType !== undefined) headers['content-type'] = sent.contentType;
      return fetch(`${api.url}${sent.path}`, { method, headers, body: sent.body });
    };
    for (const operation of operations) {
      const property = fc.asyncProperty(request(operation, knownIds), async (sent) => {
        const response = await send(operation.method, sent);
        const text = await response.text();
        if (response.status >= 500) throw new Error(`${response.status} ${text}`);
        if (response.status >= 400) expect(typeof JSON.parse(text).message).toBe('string');
      });
      try {
        await fc.assert(property, { seed: SEED, numRuns: RUNS });
      } catch (error) {
        throw new Error(`${operation.name} failed; replay with FUZZ_SEED=${SEED}\n${(error as Error).message}`);
      }
    }
    // The server is still up and answering.
    expect((await http(api.url, 'GET', '/health')).status).toBe(200);
  }, 180_000);
});
