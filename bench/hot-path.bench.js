// The hot path against its floors. The raw FerretDB and Redis floors through their
// drivers, the empty route, then each product route over HTTP with the API's CPU per request, and the
// ratio of each route to the floor that bounds it.
'use strict';
const { randomUUID } = require('node:crypto');
const { availableParallelism } = require('node:os');
const bcrypt = require('bcrypt');
const Redis = require('ioredis');
// The driver Mongoose ships with: the floor is measured through the same client code the API uses.
const { MongoClient, ObjectId } = require('mongoose').mongo;
const { startStack, registerUser } = require('./stack');
const { timedLoop, httpRun, probeWhile, printTable, verdict, ms } = require('./measure');

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S || 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S || 2);
/** Jobs and library items read at random, so the collections are not trivially small. */
const READ_DOCS = Number(process.env.BENCH_READ_DOCS || 3000);
/** The production default; the stack's 4 would make login measure everything but bcrypt. */
const BCRYPT_ROUNDS = Number(process.env.BENCH_BCRYPT_ROUNDS || 10);
const HEALTH_P99_LIMIT_MS = 20;

const pick = (ids) => ids[Math.floor(Math.random() * ids.length)];

/** A document the size and shape of a queued job record. */
function jobLikeDocument(userId) {
  const id = randomUUID();
  const now = new Date();
  return {
    _id: id,
    jobId: id,
    userId,
    prompt: 'A benchmark prompt about solar backpacks',
    contentType: 'Blog Post Outline',
    status: 'queued',
    scheduledFor: now,
    idempotencyKey: `none:${id}`,
    correlationId: id,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** insertOne then findOne by _id, straight through the driver: what one database round trip allows. */
async function databaseFloors(db) {
  const userId = new ObjectId();
  const ids = [];
  const insertInto = (collection) => async () => {
    const doc = jobLikeDocument(userId);
    await collection.insertOne(doc);
    ids.push(doc._id);
  };
  const raw = db.collection('bench_floor');
  await timedLoop({ inFlight: CONNECTIONS, durationS: WARMUP_S, op: insertInto(raw) });
  const insert = await timedLoop({ inFlight: CONNECTIONS, durationS: DURATION_S, op: insertInto(raw) });
  const { result: indexed, indexCount } = await indexedInsert(db, insertInto);
  return { insert, indexed, indexCount };
}

/**
 * findOne by _id in a collection of `size` job-sized documents. The size matters: FerretDB's
 * PostgreSQL backend answers even an _id filter with a sequential scan (its explain says so).
 */
async function findFloor(db, size) {
  const collection = db.collection('bench_floor_read');
  const userId = new ObjectId();
  const ids = [];
  for (let done = 0; done < size; done += 1000) {
    const docs = Array.from({ length: Math.min(1000, size - done) }, () => jobLikeDocument(userId));
    await collection.insertMany(docs);
    ids.push(...docs.map((doc) => doc._id));
  }
  const op = async () => {
    if (!(await collection.findOne({ _id: pick(ids) }))) throw new Error('floor document missing');
  };
  await timedLoop({ inFlight: CONNECTIONS, durationS: WARMUP_S, op });
  return timedLoop({ inFlight: CONNECTIONS, durationS: DURATION_S, op });
}

/** The same insert into a collection with the jobs collection's secondary indexes: their share of an enqueue. */
async function indexedInsert(db, insertInto) {
  const indexes = (await db.collection('jobs').indexes()).filter((index) => index.name !== '_id_');
  const collection = db.collection('bench_floor_indexed');
  for (const { key, unique } of indexes) await collection.createIndex(key, { unique: Boolean(unique) });
  const result = await timedLoop({ inFlight: CONNECTIONS, durationS: DURATION_S, op: insertInto(collection) });
  return { result, indexCount: indexes.length };
}

async function redisFloor(url) {
  const redis = new Redis(url);
  try {
    return await timedLoop({ inFlight: CONNECTIONS, durationS: DURATION_S, op: () => redis.ping() });
  } finally {
    redis.disconnect();
  }
}

/** bcrypt.compare (one hash) at `rounds`, enough in flight to keep every core's threadpool thread busy. */
async function bcryptCeiling(rounds) {
  const hash = await bcrypt.hash('benchmark-password', rounds);
  return timedLoop({ inFlight: availableParallelism() * 2, durationS: DURATION_S, op: () => bcrypt.compare('benchmark-password', hash) });
}

/** Runs `create` `count` times with CONNECTIONS in flight and returns what each call returned. */
async function createMany(count, create) {
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      results.push(await create());
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  return results;
}

async function postJson(url, token, body, expected) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (response.status !== expected) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** The caller's job ids, topped up to READ_DOCS by enqueueing more (the worker is not running). */
async function jobIdsOf(db, api, user) {
  const ids = (await db.collection('jobs').find({ userId: new ObjectId(user.id) }, { projection: { _id: 1 } }).toArray()).map((job) => job._id);
  const missing = Math.max(0, READ_DOCS - ids.length);
  const body = { prompt: 'A job to read back', contentType: 'blog-post' };
  const added = await createMany(missing, async () => (await postJson(`${api.url}/generate-content`, user.token, body, 202)).jobId);
  return [...ids, ...added];
}

async function libraryItemIds(api, user, count) {
  const body = { title: 'A library item', type: 'Blog Post Outline', body: '1. Benchmarks\n2. Floors\n3. Ratios' };
  return createMany(count, async () => (await postJson(`${api.url}/content`, user.token, body, 201))._id);
}

/** GETs of a random id from `ids` under `prefix`, one id per request. */
const randomReads = (prefix, ids) => [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `${prefix}/${pick(ids)}` }) }];

/** Every measurement, in an order where each run finds what it reads already written. */
async function measure(stack, db) {
  const api = await stack.api();
  const user = await registerUser(api.url);
  const http = (options) => httpRun({ api, connections: CONNECTIONS, durationS: DURATION_S, warmupS: WARMUP_S, ...options });
  const auth = { authorization: `Bearer ${user.token}` };
  const json = { 'content-type': 'application/json' };
  const r = {};

  r.floors = await databaseFloors(db);
  r.redis = await redisFloor(stack.env.REDIS_URL);
  r.health = await http({ path: '/health' });
  r.enqueue = await http({
    path: '/generate-content',
    method: 'POST',
    headers: { ...json, ...auth },
    body: JSON.stringify({ prompt: 'A benchmark prompt about solar backpacks', contentType: 'blog-post' }),
  });
  const jobIds = await jobIdsOf(db, api, user);
  r.documents = jobIds.length;
  // Reads scan on FerretDB/PostgreSQL, so the floor, the jobs and the library get the same size.
  r.find = await findFloor(db, jobIds.length);
  r.getJob = await http({ headers: auth, requests: randomReads('/generate-content', jobIds) });
  r.me = await http({ path: '/auth/me', headers: auth });
  const itemIds = await libraryItemIds(api, user, jobIds.length);
  r.getItem = await http({ headers: auth, requests: randomReads('/content', itemIds) });

  r.bcrypt = await bcryptCeiling(BCRYPT_ROUNDS);
  r.login = await http({
    path: '/auth/login',
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email: user.email, password: user.password }),
    alongside: (run) => probeWhile(`${api.url}/health`, run),
  });
  return r;
}

/** The table's rows: each route with its floor, ratio and target. */
function rows(r) {
  const client = (result) => `(client ${ms(result.clientCpuMsPerOp)})`;
  const api = (result) => ms(result.apiCpuMsPerOp);
  const against = (result, floor, floorName, minimum) => {
    const ratio = result.perSecond / floor.perSecond;
    if (minimum === undefined) return { floor: floorName, ratio };
    return { floor: floorName, ratio, target: `≥ ${minimum * 100}%`, verdict: verdict(ratio, minimum) };
  };
  const documents = r.documents.toLocaleString('en-US');
  const probe = r.login.alongside;
  return [
    { name: 'FerretDB `insertOne` (driver, job-sized document, `_id` index only)', ...r.floors.insert, unit: 'ops/s', cpu: client(r.floors.insert) },
    {
      name: `FerretDB \`insertOne\` with the jobs collection’s ${r.floors.indexCount} secondary indexes`,
      ...r.floors.indexed,
      unit: 'ops/s',
      cpu: client(r.floors.indexed),
      ...against(r.floors.indexed, r.floors.insert, 'insertOne'),
    },
    { name: `FerretDB \`findOne\` by \`_id\` (random of ${documents})`, ...r.find, unit: 'ops/s', cpu: client(r.find) },
    { name: 'Redis round trip (`PING`, ioredis)', ...r.redis, unit: 'ops/s', cpu: client(r.redis) },
    { name: 'empty route `GET /health`', ...r.health, cpu: api(r.health) },
    { name: 'enqueue `POST /generate-content` (worker stopped)', ...r.enqueue, cpu: api(r.enqueue), ...against(r.enqueue, r.floors.insert, 'insertOne', 0.5) },
    { name: `GET a job (random of ${documents})`, ...r.getJob, cpu: api(r.getJob), ...against(r.getJob, r.find, 'findOne', 0.7) },
    { name: '`GET /auth/me`', ...r.me, cpu: api(r.me), ...against(r.me, r.health, '/health', 0.4) },
    { name: `GET a library item (random of ${documents})`, ...r.getItem, cpu: api(r.getItem), ...against(r.getItem, r.find, 'findOne') },
    { name: `bcrypt ceiling: \`compare\` at ${BCRYPT_ROUNDS} rounds, all cores`, ...r.bcrypt, unit: 'hashes/s', cpu: client(r.bcrypt) },
    { name: '`POST /auth/login`', ...r.login, cpu: api(r.login), ...against(r.login, r.bcrypt, 'bcrypt', 0.9) },
    {
      name: '`GET /health` during the login run (1 probe at a time)',
      perSecond: probe.count / DURATION_S,
      unit: 'probes/s',
      p50: probe.p50,
      p99: probe.p99,
      target: `p99 < ${HEALTH_P99_LIMIT_MS} ms`,
      verdict: probe.p99 < HEALTH_P99_LIMIT_MS ? 'PASS' : 'MISS',
    },
  ];
}

async function hotPath() {
  const stack = await startStack({ BCRYPT_ROUNDS: String(BCRYPT_ROUNDS) });
  const mongo = new MongoClient(stack.env.MONGO_URI, { maxPoolSize: CONNECTIONS * 2 });
  try {
    await mongo.connect();
    const results = await measure(stack, mongo.db());
    printTable(
      `Hot path: ${CONNECTIONS} in flight / connections, ${DURATION_S} s each after ${WARMUP_S} s of warm-up, ${stack.database}, ` +
        `API from dist/ with NODE_ENV=production and BCRYPT_ROUNDS=${BCRYPT_ROUNDS} (one API process for every row), ${availableParallelism()} cores`,
      rows(results),
    );
    console.log('API CPU ms/req: the API process’s utime+stime (/proc/<pid>/stat) over the run ÷ its requests; "(client …)": this process’s CPU per operation.');
  } finally {
    await mongo.close();
    await stack.stop();
  }
}

module.exports = { hotPath };
