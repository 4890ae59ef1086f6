export interface DeltaBatcherOptions {
  /** Minimum time between the starts of two flushes (JOB_DELTA_INTERVAL_MS, 50 ms = at most 20 per second). */
  intervalMs: number;
  /** Sends one batch; `seq` counts flushes from 0. Flushes never overlap. */
  flush: (text: string, seq: number) => Promise<void>;
}

/**
 * Batches streamed text into at most one flush per interval. The first text goes out at once, later
 * texts are joined until the interval has passed; the flushed texts, in seq order, concatenate to
 * everything pushed. Use one batcher per job attempt.
 */
export class DeltaBatcher {
  private pending = '';
  private seq = 0;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private running?: Promise<void>;
  private wait?: { timer: NodeJS.Timeout; resolve: () => void };
  private closed = false;
  private failure?: { error: unknown };

  constructor(private readonly options: DeltaBatcherOptions) {}

  /** Queues text for the next flush. */
  push(text: string): void {
    if (this.closed) throw new Error('DeltaBatcher: push after close');
    if (!text) return;
    this.pending += text;
    this.running ??= this.drain();
  }

  /** Flushes what is left (without waiting for the interval) and waits for it; rejects with the first flush error. */
  async close(): Promise<void> {
    this.closed = true;
    this.cutWaitShort();
    if (this.pending) this.running ??= this.drain();
    await this.running;
    if (this.failure) throw this.failure.error;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        const delayMs = this.lastFlushAt + this.options.intervalMs - Date.now();
        if (delayMs > 0 && !this.closed) await this.sleep(delayMs);
        const text = this.pending;
        this.pending = '';
        this.lastFlushAt = Date.now();
        try {
          await this.options.flush(text, this.seq++);
        } catch (error) {
          // Deltas are best-effort: the batch is lost, later ones still go out, close() reports the error.
          this.failure ??= { error };
        }
      }
    } finally {
      // Cleared in the same step the loop ends, so a push right after starts a new drain.
      this.running = undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wait = {
        timer: setTimeout(() => {
          this.wait = undefined;
          resolve();
        }, ms),
        resolve,
      };
    });
  }

  private cutWaitShort(): void {
    if (!this.wait) return;
    clearTimeout(this.wait.timer);
    this.wait.resolve();
    this.wait = undefined;
  }
}
