import { registerAs } from '@nestjs/config';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { firstSet, IntVar, validateEnv } from './validate-env';

class OpenRouterEnv {
  @IsIn(['auto', 'openrouter', 'offline'], { message: 'LLM_PROVIDER must be auto, openrouter or offline' })
  LLM_PROVIDER = 'auto';

  @IsOptional()
  @IsString()
  OPENROUTER_API_KEY?: string = undefined;

  @Matches(/^\S+$/, { message: 'OPENROUTER_MODEL must be a model id like openai/gpt-4o-mini' })
  OPENROUTER_MODEL = 'openai/gpt-4o-mini';

  @IsOptional()
  @Matches(/^\S+(,\s*\S+)*$/, { message: 'OPENROUTER_FALLBACK_MODELS must be a comma-separated list of model ids' })
  OPENROUTER_FALLBACK_MODELS?: string = undefined;

  /** The models a request may name in `options.model`; others are refused (400). */
  @IsOptional()
  @Matches(/^[^\s,]+(\s*,\s*[^\s,]+)*$/, { message: 'LLM_ALLOWED_MODELS must be a comma-separated list of model ids' })
  LLM_ALLOWED_MODELS?: string = undefined;

  @Matches(/^https?:\/\/\S+$/, { message: 'OPENROUTER_BASE_URL must be an http(s) URL' })
  OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

  @IntVar('OPENROUTER_TIMEOUT_MS', 100)
  OPENROUTER_TIMEOUT_MS = 60_000;

  /** The longest answer kept, in characters (String#length); a provider that sends more fails the job. */
  @IntVar('LLM_MAX_OUTPUT_CHARS', 1)
  LLM_MAX_OUTPUT_CHARS = 50_000;

  @Matches(/^https?:\/\/\S+$/, { message: 'APP_URL must be an http(s) URL' })
  APP_URL = 'http://localhost:5000';

  @IsString()
  APP_TITLE = 'AI Content Generator';
}

export const openRouterConfig = registerAs('openrouter', () => {
  // The old backend's names (OPENROUTER_KEY, BASE_URL) are still read when the new ones are unset.
  const env = validateEnv(OpenRouterEnv, {
    ...process.env,
    OPENROUTER_API_KEY: firstSet(process.env, 'OPENROUTER_API_KEY', 'OPENROUTER_KEY'),
    OPENROUTER_BASE_URL: firstSet(process.env, 'OPENROUTER_BASE_URL', 'BASE_URL'),
  });
  const provider = env.LLM_PROVIDER === 'auto' ? (env.OPENROUTER_API_KEY ? 'openrouter' : 'offline') : env.LLM_PROVIDER;
  const fallbackModels = modelList(env.OPENROUTER_FALLBACK_MODELS);
  return {
    provider: provider as 'openrouter' | 'offline',
    apiKey: env.OPENROUTER_API_KEY,
    model: env.OPENROUTER_MODEL,
    fallbackModels,
    /** LLM_ALLOWED_MODELS, or when unset the configured model and its fallbacks. */
    allowedModels: env.LLM_ALLOWED_MODELS ? modelList(env.LLM_ALLOWED_MODELS) : [...new Set([env.OPENROUTER_MODEL, ...fallbackModels])],
    baseUrl: env.OPENROUTER_BASE_URL.replace(/\/+$/, ''),
    timeoutMs: env.OPENROUTER_TIMEOUT_MS,
    maxOutputChars: env.LLM_MAX_OUTPUT_CHARS,
    appUrl: env.APP_URL,
    appTitle: env.APP_TITLE,
  };
});

function modelList(value: string | undefined): string[] {
  return value?.split(',').map((model) => model.trim()).filter(Boolean) ?? [];
}

export type OpenRouterConfig = ReturnType<typeof openRouterConfig>;
