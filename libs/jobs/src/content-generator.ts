import { Injectable } from '@nestjs/common';
import { sumUsage, TokenUsage } from '@app/common';
import { checkOutput, GenerationResult, LlmProvider, OutputCheck } from '@app/llm';
import { JobRecord } from './job.repository';
import { JobResult } from './job.types';

export interface GenerateOptions {
  correlationId: string;
  signal?: AbortSignal;
  /** The first answer's streamed pieces. */
  onDelta?: (text: string) => void;
  /** Told the usage of each provider call as it finishes, so a cancelled job keeps what it already cost. */
  onUsage?: (usage: TokenUsage) => void;
}

/**
 * Turns a job into its result: the provider's answers (one per variant), each checked against its
 * content type's output contract, and an answer that breaks it sent back once for repair. The answer is
 * kept either way; `validation` says whether it keeps the contract.
 */
@Injectable()
export class ContentGenerator {
  constructor(private readonly llm: LlmProvider) {}

  async generate(job: JobRecord, options: GenerateOptions): Promise<JobResult> {
    const { correlationId, signal } = options;
    const jobOptions = job.options ?? {};
    const first = await this.llm.generate({ prompt: job.prompt, contentType: job.contentType, options: jobOptions, correlationId, signal, onDelta: options.onDelta });
    const calls: GenerationResult[] = [first];
    this.report(first, options);

    const answers: Array<{ text: string; check: OutputCheck }> = [];
    for (const text of first.texts) {
      let answer = { text, check: checkOutput(job.contentType, text, jobOptions) };
      if (!answer.check.ok) {
        const repaired = await this.llm.generate({
          prompt: job.prompt,
          contentType: job.contentType,
          options: { ...jobOptions, variants: 1 },
          repair: { text, problems: answer.check.problems },
          correlationId,
          signal,
        });
        calls.push(repaired);
        this.report(repaired, options);
        answer = { text: repaired.text, check: checkOutput(job.contentType, repaired.text, jobOptions) };
      }
      answers.push(answer);
    }

    const [main] = answers;
    const several = answers.length > 1;
    const problems = answers.flatMap(({ check }, index) => check.problems.map((problem) => (several ? `variant ${index + 1}: ${problem}` : problem)));
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
      finishReason: first.finishReason,
      generationId: first.generationId,
    };
  }

  private report(call: GenerationResult, options: GenerateOptions): void {
    if (call.usage) options.onUsage?.(call.usage);
  }
}
