import { Injectable, Logger } from '@nestjs/common';
import { sumUsage, TokenUsage } from '@app/common';
import { checkOutput, GenerationResult, LlmProvider, OutputCheck } from '@app/llm';
import { JobRecord } from './job.repository';
import { JobResult } from './job.types';

export interface GenerateOptions {
  correlationId: string;
  signal?: AbortSignal;
  /** The first answer's streamed pieces. */
  onDelta?: (text: string) => void;
  /** Told the usage of each provider call as it finishes (the provider reports it), so a cancelled job keeps what it already cost. */
  onUsage?: (usage: TokenUsage) => void;
}

type Answer = { text: string; check: OutputCheck; finishReason?: string };

/**
 * Turns a job into its result: the provider's answers (one per variant), each checked against its
 * content type's output contract, and an answer that breaks it sent back once for repair. The answer is
 * kept either way; `validation` says whether it keeps the contract.
 */

@Injectable()
export class ContentGenerator {
  private readonly logger = new Logger(ContentGenerator.name);

  constructor(private readonly llm: LlmProvider) {}

  async generate(job: JobRecord, options: GenerateOptions): Promise<JobResult> {
    const { correlationId, signal } = options;
    const jobOptions = job.options ?? {};
    const first = await this.llm.generate({ prompt: job.prompt, contentType: job.contentType, options: jobOptions, correlationId, signal, onDelta: options.onDelta, onUsage: options.onUsage });
    const calls: GenerationResult[] = [first];

    const answers: Answer[] = [];
    for (const text of first.texts) {
      const answer: Answer = { text, check: checkOutput(job.contentType, text, jobOptions), finishReason: first.finishReason };
      answers.push(answer.check.ok ? answer : await this.repair(job, answer, calls, options));
    }

    const [main] = answers;
    const several = answers.length > 1;
    const problems = answers.flatMap(({ check }, index) => check.problems.map((problem) => (several ? `variants[${index}]: ${problem}` : problem)));
    return {
      generatedContent: main.text,
      ...(several ? { variants: answers.map(({ text }) => text) } : {}),
      validation: { ok: problems.length === 0, problems },
      ...(main.check.outline ? { outline: main.check.outline } : {}),
      ...(main.check.product ? { product: main.check.product } : {}),
      provider: first.provider,
      model: first.model,
      usage: sumUsage(calls.map((call) => call.usage)),
      durationMs: calls.reduce((sum, call) => sum + call.durationMs, 0),
      // Why the kept first answer ended: the repair's reason when it was repaired.
      finishReason: main.finishReason,
      generationId: first.generationId,
    };
  }

  /**
   * One request to fix an answer that breaks its contract. The repair is best-effort: should it fail (other
   * than by an abort: cancel, shutdown, lost lock), the answer is kept as it was and says why it was not fixed.
   */
  private async repair(job: JobRecord, answer: Answer, calls: GenerationResult[], options: GenerateOptions): Promise<Answer> {
    const jobOptions = job.options ?? {};
    try {
      const repaired = await this.llm.generate({
        prompt: job.prompt,
        contentType: job.contentType,
        options: { ...jobOptions, variants: 1 },
        repair: { text: answer.text, problems: answer.check.problems },
        correlationId: options.correlationId,
        signal: options.signal,
        onUsage: options.onUsage,
      });
      calls.push(repaired);
      return { text: repaired.text, check: checkOutput(job.contentType, repaired.text, jobOptions), finishReason: repaired.finishReason };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      this.logger.warn({ msg: 'repair request failed; keeping the answer as it was', jobId: job.jobId, correlationId: options.correlationId, error: (error as Error).message });
      return { ...answer, check: { ...answer.check, problems: [...answer.check.problems, 'the request to fix these problems failed'] } };
    }
  }
}
