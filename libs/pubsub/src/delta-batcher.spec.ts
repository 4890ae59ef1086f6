import { DeltaBatcher } from './delta-batcher';

interface Flush {
  text: string;
  seq: number;
  at: number;
}

describe(DeltaBatcher.name, () => {
  const intervalMs = 50;
  let flushes: Flush[];
  let flush: jest.Mock<Promise<void>, [string, number]>;
  let sut: DeltaBatcher;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    flushes = [];
    flush = jest.fn(async (text: string, seq: number) => void flushes.push({ text, seq, at: Date.now() }));
    sut = new DeltaBatcher({ intervalMs, flush });
  });
  afterEach(() => jest.useRealTimers());

  it('sends the first text at once and joins the texts pushed within an interval', async () => {
    sut.push('He');
    await jest.advanceTimersByTimeAsync(0);
    sut.push('l');
    sut.push('lo');
    await jest.advanceTimersByTimeAsync(10);
    sut.push(' world');
    expect(flushes.map((f) => f.text)).toEqual(['He']);

    await jest.advanceTimersByTimeAsync(40);
    expect(flushes.map(({ text, seq }) => ({ text, seq }))).toEqual([
      { text: 'He', seq: 0 },
      { text: 'llo world', seq: 1 },
    ]);
  });

  it('never flushes more often than once per interval, and the flushes concatenate to everything pushed, in order', async () => {
    const pushed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `t${i};`;
      pushed.push(text);
      sut.push(text);
      await jest.advanceTimersByTimeAsync(3);
    }
    await sut.close();

    expect(flushes.map((f) => f.text).join('')).toBe(pushed.join(''));
    expect(flushes.map((f) => f.seq)).toEqual(flushes.map((_, index) => index));
    for (let i = 1; i < flushes.length - 1; i++) expect(flushes[i].at - flushes[i - 1].at).toBeGreaterThanOrEqual(intervalMs);
    // 600 ms of streaming at 50 ms: about 12 flushes, not 200.
    expect(flushes.length).toBeLessThanOrEqual(14);
  });

  it('never runs two flushes at once, even when a flush is slower than the interval', async () => {
    let running = 0;
    let overlapped = false;
    flush.mockImplementation(async (text, seq) => {
      running++;
      overlapped ||= running > 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      flushes.push({ text, seq, at: Date.now() });
      running--;
    });
    sut.push('a');
    await jest.advanceTimersByTimeAsync(60);
    sut.push('b');
    await jest.advanceTimersByTimeAsync(60);
    sut.push('c');
    const closed = sut.close();
    await jest.advanceTimersByTimeAsync(1000);
    await closed;

    expect(overlapped).toBe(false);
    expect(flushes.map(({ text, seq }) => [text, seq])).toEqual([
      ['a', 0],
      ['bc', 1],
    ]);
  });

  it('flushes the remainder on close without waiting for the interval', async () => {
    sut.push('first');
    await jest.advanceTimersByTimeAsync(0);
    sut.push('rest');
    await sut.close();
    expect(flushes.map((f) => f.text)).toEqual(['first', 'rest']);
    expect(flushes[1].at).toBe(flushes[0].at);
  });

  it('does not flush on close when nothing is pending, nor for empty texts', async () => {
    sut.push('');
    await sut.close();
    expect(flush).not.toHaveBeenCalled();
  });

  it('keeps going after a failed flush and reports the first error from close()', async () => {
    flush.mockRejectedValueOnce(new Error('redis down'));
    sut.push('lost');
    await jest.advanceTimersByTimeAsync(0);
    sut.push('kept');
    await jest.advanceTimersByTimeAsync(intervalMs);

    await expect(sut.close()).rejects.toThrow('redis down');
    expect(flush).toHaveBeenCalledTimes(2);
    expect(flushes.map(({ text, seq }) => [text, seq])).toEqual([['kept', 1]]);
  });

  it('refuses pushes after close', async () => {
    await sut.close();
    expect(() => sut.push('late')).toThrow(/after close/);
  });
});
