import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ContentType, GenerationOptions, invalidArgument } from '@app/common';
import { generationConfig, GenerationConfig, openRouterConfig, OpenRouterConfig } from '@app/config';
import { TemplatesService } from '@app/templates';

/** What a client asks for: a prompt, or a template and its variables, and options. */
export interface JobAsk {
  userId: string;
  prompt?: string;
  contentType?: ContentType;
  templateId?: string;
  variables?: Record<string, string>;
  options?: GenerationOptions;
}

/** What a job is made of once its template is rendered and its options checked: what the record keeps. */
export interface JobSpec {
  prompt: string;
  contentType: ContentType;
  templateId?: string;
  options?: GenerationOptions;
}

const OPTION_NAMES: ReadonlyArray<keyof GenerationOptions> = ['tone', 'language', 'length', 'maxWords', 'audience', 'keywords', 'platform', 'variants', 'model'];

/**
 * Turns an ask into a job's request, or a 400 naming the field: the template rendered (its variables
 * checked), the prompt within MAX_PROMPT_LENGTH, the options fitting the content type and the model
 * allowed. Runs before anything is taken (slot, Idempotency-Key), so bad input changes nothing.
 */
@Injectable()
export class JobSpecs {
  constructor(
    private readonly templates: TemplatesService,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
    @Inject(openRouterConfig.KEY) private readonly llm: OpenRouterConfig,
  ) {}

  async resolve(ask: JobAsk): Promise<JobSpec> {
    const { prompt, contentType, templateId } = ask.templateId === undefined ? this.plain(ask) : await this.rendered(ask);
    if (prompt.length > this.config.maxPromptLength) {
      // A rendered template grows with its variables: name what the client sent.
      const field = templateId ? 'variables' : 'prompt';
      throw invalidArgument(field, `${templateId ? 'the rendered template' : 'prompt'} must be at most ${this.config.maxPromptLength} characters`);
    }
    const options = this.options(ask.options, contentType);
    return { prompt, contentType, ...(templateId ? { templateId } : {}), ...(options ? { options } : {}) };
  }

  private plain(ask: JobAsk): JobSpec {
    if (ask.variables !== undefined) throw invalidArgument('variables', 'variables need a templateId');
    if (!ask.prompt) throw invalidArgument('prompt', 'prompt must not be empty');
    if (!ask.contentType) throw invalidArgument('contentType', 'contentType must be one of: Blog Post Outline, Product Description, Social Media Caption');
    return { prompt: ask.prompt, contentType: ask.contentType };
  }

  private async rendered(ask: JobAsk): Promise<JobSpec> {
    // An empty prompt cell (a CSV row) is no prompt; a real one would be silently dropped, so it is refused.
    if (ask.prompt) throw invalidArgument('prompt', 'prompt must be omitted with templateId: the template renders it');
    const template = await this.templates.render(ask.userId, ask.templateId!, ask.variables);
    if (ask.contentType && ask.contentType !== template.contentType) {
      throw invalidArgument('contentType', `contentType must be omitted or "${template.contentType}", the template's`);
    }
    return template;
  }

  /** The known options with a value, or undefined for none; `platform` only for captions, `model` only from LLM_ALLOWED_MODELS. */
  private options(options: GenerationOptions | undefined, contentType: ContentType): GenerationOptions | undefined {
    if (!options) return undefined;
    if (options.platform !== undefined && contentType !== 'Social Media Caption') {
      throw invalidArgument('options.platform', 'options.platform applies to Social Media Caption only');
    }
    if (options.model !== undefined && !this.llm.allowedModels.includes(options.model)) {
      throw invalidArgument('options.model', `options.model must be one of: ${this.llm.allowedModels.join(', ')}`);
    }
    const known = Object.fromEntries(OPTION_NAMES.filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
    return Object.keys(known).length ? (known as GenerationOptions) : undefined;
  }
}

/** Identifies the request an Idempotency-Key was first used for. */
export function fingerprintOf(spec: JobSpec): string {
  // A plain prompt hashes as before templates and options existed, so keys claimed then still match.
  const extras = spec.templateId || spec.options ? `\n${spec.templateId ?? ''}\n${JSON.stringify(spec.options ?? {}, Object.keys(spec.options ?? {}).sort())}` : '';
  return createHash('sha256').update(`${spec.contentType}\n${spec.prompt}${extras}`).digest('base64url').slice(0, 22);
}
