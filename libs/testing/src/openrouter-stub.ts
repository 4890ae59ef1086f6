/**
 * A local stand-in for OpenRouter's chat completions API (plain node:http) so tests never call the internet.
 *
 * Which answer a POST /api/v1/chat/completions gets, first match wins:
 *   1. the next script queued with `stub.enqueue(...)`;
 *   2. markers in the user message (for tests that cannot reach the stub object, e.g. a worker process):
 *        [[stub:status=500]]             every request with this prompt answers that status (OpenAI-style error body)
 *        [[stub:sequence=500,429,ok]]    the nth request with this exact prompt gets the nth outcome; the last one repeats
 *        [[stub:respond=hang]]           one outcome for every request with this prompt
 *      outcomes: ok (default stream), json, <3-digit status>, hang, error-in-200, error-mid-stream, error-event,
 *                malformed-json, truncated (stream cut before finish and [DONE]), empty (stream with no text),
 *                huge (a streamed answer of [[stub:mb=N]] megabytes, default 12), huge-json (the same in one JSON body),
 *                endless (content chunks as fast as the client reads, until it goes away),
 *                endless-line (one SSE line that never ends), endless-comments (keep-alive comment lines forever)
 *      modifiers, alone or with the above:
 *        [[stub:retry-after=2]]   Retry-After seconds on status answers
 *        [[stub:latency=200]]     ms before the answer starts
 *        [[stub:chunk-delay=50]]  ms between streamed chunks
 *        [[stub:chunks=10]]       number of streamed text chunks
 *        [[stub:mb=2]]            size of the huge answers, in megabytes (decimals allowed)
 *   3. the script set with `stub.setDefault(...)`;
 *   4. a stream of `stubAnswerFor(prompt)`: a Markdown text headed "Stub answer for: <prompt>" (markers included,
 *      verbatim) that keeps every content type's output contract.
 * "prompt" is the user's request: the text between <request> and </request> in the first user message (as the
 * client's prompt builder sends it), else the last user message; a repair request (one with an earlier answer as an
 * assistant message) has the same prompt as the request it repairs.
 * Several choices: a body with `n` gets n choices (`choices[].index`; choice i > 0 answers `stubAnswerFor(prompt, i)`),
 * unless `stub.ignoreN()` makes it answer one, as most real models do; a script's `choices` sends exactly those texts.
 * A request without `Authorization: Bearer ...` gets 401, as on OpenRouter.
 * The huge and endless answers write only as fast as the client reads and stop when it goes away.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface Timing {
  /** ms before the answer starts. */
  latencyMs?: number;
}

export type StubScript = Timing &
  (
    | { kind: 'stream'; text?: string; choices?: string[]; chunks?: number | string[]; chunkDelayMs?: number; model?: string; finishReason?: string }
    | { kind: 'json'; text?: string; choices?: string[]; model?: string }
    | { kind: 'status'; status: number; message?: string; retryAfter?: number | string }
    | { kind: 'error-in-200'; code?: number; message?: string }
    | { kind: 'error-mid-stream'; text?: string; code?: number; message?: string; chunkDelayMs?: number }
    | { kind: 'error-event'; text?: string; message?: string }
    | { kind: 'truncated-stream'; text?: string }
    | { kind: 'malformed-json' }
    | { kind: 'hang' }
    | { kind: 'huge'; megabytes?: number; chunkChars?: number }
    | { kind: 'huge-json'; megabytes?: number; declareLength?: boolean }
    | { kind: 'endless'; chunkChars?: number }
    | { kind: 'endless-line' }
    | { kind: 'endless-comments' }
  );

export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (the raw string when it is not JSON). */
  body: any;
  /** The user's request (see above), when there is one. */
  prompt?: string;
  /** From the body: the model asked for, `n` (1 when absent) and the chat messages. */
  model?: string;
  n: number;
  messages: Array<{ role: string; content: string }>;
  /** The request carries an earlier answer to fix (an assistant message). */
  repair: boolean;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  /** Set once the answer is over: bytes written to the connection (headers included) and whether all of it was sent. */
  response?: { bytes: number; complete: boolean };
}

export interface OpenRouterStub {
  /** Base URL ending in /api/v1, for OPENROUTER_BASE_URL. */
  readonly url: string;
  readonly requests: StubRequest[];
  enqueue(...scripts: StubScript[]): void;
  setDefault(script: StubScript | undefined): void;
  /** Answers one choice whatever `n` asks (as most OpenRouter models do), or several again with `ignoreN(false)`. */
  ignoreN(ignore?: boolean): void;
  /** Forgets queued scripts, the default, recorded requests, marker counters, the generation id counter and ignoreN. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_MODEL = 'openai/gpt-4o-mini';
const DEFAULT_CHUNKS = 4;
/** The size of the answer that once grew a worker to 1.39 GB. */
const DEFAULT_HUGE_MEGABYTES = 12;
const FILLER = 'All work and no play makes Jack a dull boy. ';
const MARKER = /\[\[stub:([a-z-]+)=([^\]]*)\]\]/g;

/**
 * The text of the default answer for a prompt (choice 0, or another choice of a request with `n`): a headline,
 * a paragraph and three sections with a point each, so it reads as an outline, a product description and a caption.
 */
export function stubAnswerFor(prompt: string, choice = 0): string {
  return [
    `# Stub answer for: ${prompt}${choice > 0 ? ` (choice ${choice + 1})` : ''}`,
    '',
    'Written by the OpenRouter stand-in.',
    '',
    '## First section',
    '- First point',
    '',
    '## Second section',
    '- Second point',
    '',
    '## Third section',
    '- Third point',
  ].join('\n');
}

export async function startOpenRouterStub(): Promise<OpenRouterStub> {
  const queue: StubScript[] = [];
  const requests: StubRequest[] = [];
  const promptCounts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let defaultScript: StubScript | undefined;
  let generationCount = 0;
  let ignoringN = false;
  let closed: Promise<void> | undefined;

  const sleep = (ms = 0): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  const server = createServer((req, res) => {
    // Writes after the client went away (abort, timeout) are expected, not failures.
    res.on('error', () => undefined);
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: any = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // Recorded as the raw string; answered with 400 below.
    }
    const prompt = userPrompt(body);
    const path = req.url ?? '/';
    const messages = chatMessages(body);
    const record: StubRequest = {
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      prompt,
      model: typeof body?.model === 'string' ? body.model : undefined,
      n: Number.isInteger(body?.n) && body.n > 0 ? body.n : 1,
      messages,
      repair: messages.some((message) => message.role === 'assistant'),
      receivedAt: Date.now(),
    };
    requests.push(record);
    const bytesBefore = req.socket.bytesWritten;
    res.once('close', () => (record.response = { bytes: req.socket.bytesWritten - bytesBefore, complete: res.writableFinished }));

    if (req.method !== 'POST' || path.split('?')[0] !== '/api/v1/chat/completions') {
      return sendJson(res, 404, { error: { code: 404, message: `No route for ${req.method} ${path}` } });
    }
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      return sendJson(res, 401, { error: { code: 401, message: 'No auth credentials found' } });
    }
    if (typeof body !== 'object' || body === null || !Array.isArray(body.messages)) {
      return sendJson(res, 400, { error: { code: 400, message: 'Invalid request: messages is required' } });
    }

    let script: StubScript;
    try {
      script = queue.shift() ?? scriptFromMarkers(prompt ?? '') ?? defaultScript ?? { kind: 'stream' };
    } catch (error) {
      return sendJson(res, 400, { error: { code: 400, message: (error as Error).message } });
    }
    await sleep(script.latencyMs);
    const context: AnswerContext = {
      id: `gen-stub-${++generationCount}`,
      model: typeof body.model === 'string' ? body.model : DEFAULT_MODEL,
      answer: stubAnswerFor(prompt ?? ''),
      prompt: prompt ?? '',
      choices: ignoringN ? 1 : Math.min(record.n, 10),
      promptTokens: countWords((body.messages as Array<{ content?: unknown }>).map((m) => String(m.content ?? '')).join(' ')),
    };
    await answer(res, script, context);
  }

  function scriptFromMarkers(prompt: string): StubScript | undefined {
    const markers = new Map([...prompt.matchAll(MARKER)].map((match) => [match[1], match[2]]));
    if (markers.size === 0) return undefined;
    let outcome = markers.get('status') ?? markers.get('respond') ?? 'ok';
    const sequence = markers.get('sequence')?.split(',').map((step) => step.trim());
    if (sequence?.length) {
      const count = promptCounts.get(prompt) ?? 0;
      promptCounts.set(prompt, count + 1);
      outcome = sequence[Math.min(count, sequence.length - 1)];
    }
    const number = (key: string): number | undefined => (markers.has(key) ? Number(markers.get(key)) : undefined);
    const timing = { latencyMs: number('latency') };
    const chunks = number('chunks');
    const chunkDelayMs = number('chunk-delay');
    const megabytes = number('mb');
    if (/^\d{3}$/.test(outcome)) return { ...timing, kind: 'status', status: Number(outcome), retryAfter: markers.get('retry-after') };
    switch (outcome) {
      case 'ok':
        return { ...timing, kind: 'stream', chunks, chunkDelayMs };
      case 'empty':
        return { ...timing, kind: 'stream', text: '' };
      case 'truncated':
        return { ...timing, kind: 'truncated-stream' };
      case 'error-mid-stream':
        return { ...timing, kind: 'error-mid-stream', chunkDelayMs };
      case 'huge':
      case 'huge-json':
        return { ...timing, kind: outcome, megabytes };
      case 'json':
      case 'hang':
      case 'error-in-200':
      case 'error-event':
      case 'malformed-json':
      case 'endless':
      case 'endless-line':
      case 'endless-comments':
        return { ...timing, kind: outcome };
      default:
        throw new Error(`Unknown stub outcome "${outcome}"`);
    }
  }

  interface AnswerContext {
    id: string;
    model: string;
    answer: string;
    prompt: string;
    /** How many choices to send by default. */
    choices: number;
    promptTokens: number;
  }

  /** The texts of the choices a stream or JSON script sends. */
  function choiceTexts(script: { text?: string; choices?: string[] }, context: AnswerContext): string[] {
    if (script.choices) return script.choices;
    return Array.from({ length: context.choices }, (_, index) => (index === 0 ? (script.text ?? context.answer) : stubAnswerFor(context.prompt, index)));
  }

  async function answer(res: ServerResponse, script: StubScript, context: AnswerContext): Promise<void> {
    const { id } = context;
    switch (script.kind) {
      case 'hang':
        return; // Never answers; close() destroys the socket.
      case 'status': {
        const headers: Record<string, string> = script.retryAfter === undefined ? {} : { 'Retry-After': String(script.retryAfter) };
        return sendJson(res, script.status, { error: { code: script.status, message: script.message ?? `Stub error ${script.status}` } }, headers);
      }
      case 'error-in-200':
        return sendJson(res, 200, { error: { code: script.code ?? 502, message: script.message ?? 'Provider returned error' } });
      case 'malformed-json':
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Generation-Id': id });
        res.end('{"id":"' + id + '","choices":[{"message":{"content":"cut');
        return;
      case 'json': {
        const texts = choiceTexts(script, context);
        return sendJson(
          res,
          200,
          {
            id,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: script.model ?? context.model,
            choices: texts.map((text, index) => ({ index, message: { role: 'assistant', content: text }, finish_reason: 'stop' })),
            usage: usage(context, texts.join(' ')),
          },
          { 'X-Generation-Id': id },
        );
      }
      case 'huge':
      case 'huge-json':
      case 'endless':
      case 'endless-line':
      case 'endless-comments':
        return oversized(res, script, context);
      default:
        return stream(res, script, context);
    }
  }

  async function stream(
    res: ServerResponse,
    script: Extract<StubScript, { kind: 'stream' | 'error-mid-stream' | 'error-event' | 'truncated-stream' }>,
    context: AnswerContext,
  ): Promise<void> {
    const model = (script.kind === 'stream' && script.model) || context.model;
    const fullText = (script.kind === 'stream' && script.choices ? script.choices[0] : script.text) ?? context.answer;
    const text = script.kind === 'stream' ? fullText : fullText.slice(0, Math.ceil(fullText.length / 2));
    const requested = script.kind === 'stream' ? script.chunks : undefined;
    const pieces = Array.isArray(requested) ? requested : splitText(text, requested ?? DEFAULT_CHUNKS);
    // Choices after the first (a request with `n`) are cut into as many pieces and interleaved with it.
    const others = script.kind === 'stream' ? choiceTexts(script, context).slice(1) : [];
    const otherPieces = others.map((other) => splitText(other, Math.max(1, pieces.length)));
    const delayMs = script.kind === 'stream' || script.kind === 'error-mid-stream' ? script.chunkDelayMs : undefined;
    const chunk = (choice: object, extra: object = {}): object => streamChunk(context, model, choice, extra);
    const send = (line: string): boolean => !res.destroyed && res.write(line);

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Generation-Id': context.id });
    send(': OPENROUTER PROCESSING\n\n');
    const steps = Math.max(pieces.length, ...otherPieces.map((own) => own.length));
    for (let index = 0; index < steps; index++) {
      if (index > 0) {
        await sleep(delayMs);
        send(': OPENROUTER PROCESSING\n\n');
      }
      if (res.destroyed) return;
      if (index < pieces.length) send(`data: ${JSON.stringify(chunk({ delta: { role: 'assistant', content: pieces[index] }, finish_reason: null }))}\n\n`);
      otherPieces.forEach((own, other) => {
        if (own[index]) send(`data: ${JSON.stringify(chunk({ index: other + 1, delta: { role: 'assistant', content: own[index] }, finish_reason: null }))}\n\n`);
      });
    }
    await sleep(delayMs);
    const streamedText = [pieces.join(''), ...others].join(' ');
    switch (script.kind) {
      case 'error-mid-stream':
        send(
          `data: ${JSON.stringify(
            chunk(
              { delta: { content: '' }, finish_reason: 'error' },
              { error: { code: script.code ?? 502, message: script.message ?? 'Provider disconnected unexpectedly' } },
            ),
          )}\n\n`,
        );
        break;
      case 'error-event':
        send(`event: error\ndata: ${JSON.stringify({ error: { code: 502, message: script.message ?? 'Upstream stream failed' } })}\n\n`);
        break;
      case 'truncated-stream':
        break;
      case 'stream':
        others.forEach((_text, other) => send(`data: ${JSON.stringify(chunk({ index: other + 1, delta: { content: '' }, finish_reason: 'stop' }))}\n\n`));
        send(`data: ${JSON.stringify(chunk({ delta: { content: '' }, finish_reason: script.finishReason ?? 'stop' }, { usage: usage(context, streamedText) }))}\n\n`);
        send('data: [DONE]\n\n');
        break;
    }
    res.end();
  }

  /** The answers that are too large or never end, written by `pump`. */
  function oversized(
    res: ServerResponse,
    script: Extract<StubScript, { kind: 'huge' | 'huge-json' | 'endless' | 'endless-line' | 'endless-comments' }>,
    context: AnswerContext,
  ): Promise<void> {
    const sse = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Generation-Id': context.id };
    const event = (content: string): string => `data: ${JSON.stringify(streamChunk(context, context.model, { delta: { content }, finish_reason: null }))}\n\n`;
    switch (script.kind) {
      case 'huge': {
        const total = megabytesOf(script.megabytes);
        const piece = filler(script.chunkChars ?? 1000);
        const finish = `data: ${JSON.stringify(streamChunk(context, context.model, { delta: { content: '' }, finish_reason: 'stop' }))}\n\n`;
        res.writeHead(200, sse);
        return pump(res, chain(repeat(event(piece), Math.ceil(total / piece.length)), [finish, 'data: [DONE]\n\n']));
      }
      case 'huge-json': {
        const piece = filler(64 * 1024);
        const count = Math.ceil(megabytesOf(script.megabytes) / piece.length);
        const [head, tail] = JSON.stringify({
          id: context.id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: context.model,
          choices: [{ index: 0, message: { role: 'assistant', content: '<text>' }, finish_reason: 'stop' }],
        }).split('<text>');
        const length = head.length + count * piece.length + tail.length;
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Generation-Id': context.id, ...(script.declareLength ? { 'Content-Length': String(length) } : {}) });
        return pump(res, chain([head], repeat(piece, count), [tail]));
      }
      case 'endless':
        res.writeHead(200, sse);
        return pump(res, repeat(event(filler(script.chunkChars ?? 1000))));
      case 'endless-line':
        res.writeHead(200, sse);
        return pump(res, chain(['data: {"choices":[{"delta":{"content":"'], repeat(filler(16 * 1024))));
      case 'endless-comments':
        res.writeHead(200, sse);
        return pump(res, repeat(': OPENROUTER PROCESSING\n\n'.repeat(64)));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    requests,
    enqueue: (...scripts) => void queue.push(...scripts),
    setDefault: (script) => void (defaultScript = script),
    ignoreN: (ignore = true) => void (ignoringN = ignore),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      promptCounts.clear();
      defaultScript = undefined;
      generationCount = 0;
      ignoringN = false;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // Hung and keep-alive sockets would hold close() open.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/**
 * Writes the pieces only as fast as the client reads them, so the stub's memory stays flat, then ends the answer;
 * stops as soon as the client goes away.
 */
async function pump(res: ServerResponse, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece) && !res.destroyed) await drainedOrClosed(res);
    // A reader as fast as the writer never makes write() return false: yield so the test process keeps running.
    else await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** `piece` `count` times, or forever. */
function* repeat(piece: string, count = Infinity): Generator<string> {
  for (let i = 0; i < count; i++) yield piece;
}

function* chain(...parts: Iterable<string>[]): Generator<string> {
  for (const part of parts) yield* part;
}

function filler(chars: number): string {
  return FILLER.repeat(Math.ceil(chars / FILLER.length)).slice(0, chars);
}

function megabytesOf(megabytes = DEFAULT_HUGE_MEGABYTES): number {
  return Math.round(megabytes * 1024 * 1024);
}

function streamChunk(context: { id: string }, model: string, choice: object, extra: object = {}): object {
  return {
    id: context.id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    provider: 'Stub',
    choices: [{ index: 0, ...choice }],
    ...extra,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function chatMessages(body: any): Array<{ role: string; content: string }> {
  const messages: Array<{ role?: unknown; content?: unknown }> = Array.isArray(body?.messages) ? body.messages : [];
  return messages.map((message) => ({ role: String(message?.role ?? ''), content: typeof message?.content === 'string' ? message.content : '' }));
}

/** The user's request: between <request> and </request> of the first user message, else the last user message. */
function userPrompt(body: any): string | undefined {
  const users = chatMessages(body).filter((message) => message.role === 'user');
  const request = /(?:^|\n)<request>\n([\s\S]*)\n<\/request>(?:\n|$)/.exec(users[0]?.content ?? '');
  if (request) return request[1];
  return users.at(-1)?.content;
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function usage(context: { promptTokens: number }, text: string): object {
  const completionTokens = countWords(text);
  const totalTokens = context.promptTokens + completionTokens;
  return { prompt_tokens: context.promptTokens, completion_tokens: completionTokens, total_tokens: totalTokens, cost: Number((totalTokens * 0.000002).toFixed(8)) };
}

/** `count` pieces cut on code points, so a multi-byte character is never split between chunks. */
function splitText(text: string, count: number): string[] {
  if (!text) return [];
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, count)));
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}
