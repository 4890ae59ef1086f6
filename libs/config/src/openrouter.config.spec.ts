import { openRouterConfig } from './openrouter.config';
import { ConfigValidationError } from './validate-env';

function load(env: Record<string, string | undefined>): ReturnType<typeof openRouterConfig> {
  const saved = process.env;
  process.env = { ...env } as NodeJS.ProcessEnv;
  try {
    return openRouterConfig();
  } finally {
    process.env = saved;
  }
}

describe('openRouterConfig', () => {
  it('runs offline without a key, on gpt-4o-mini, allowing only that model', () => {
    expect(load({})).toMatchObject({ provider: 'offline', model: 'openai/gpt-4o-mini', fallbackModels: [], allowedModels: ['openai/gpt-4o-mini'] });
  });

  it('allows the model and its fallbacks when LLM_ALLOWED_MODELS is unset or empty', () => {
    const env = { OPENROUTER_MODEL: 'a/one', OPENROUTER_FALLBACK_MODELS: 'b/two, a/one,c/three' };

    expect(load(env)).toMatchObject({ fallbackModels: ['b/two', 'a/one', 'c/three'], allowedModels: ['a/one', 'b/two', 'c/three'] });
    expect(load({ ...env, LLM_ALLOWED_MODELS: ' ' }).allowedModels).toEqual(['a/one', 'b/two', 'c/three']);
  });

  it('reads LLM_ALLOWED_MODELS as the whole list', () => {
    expect(load({ OPENROUTER_MODEL: 'a/one', LLM_ALLOWED_MODELS: 'x/cheap, y/smart:free' }).allowedModels).toEqual(['x/cheap', 'y/smart:free']);
  });

  it.each(['a/one,,b/two', 'a/one, b two', ',a/one'])('refuses LLM_ALLOWED_MODELS=%s with one line naming it', (value) => {
    expect(() => load({ LLM_ALLOWED_MODELS: value })).toThrow(
      new ConfigValidationError(`Invalid configuration: LLM_ALLOWED_MODELS must be a comma-separated list of model ids (got "${value}")`),
    );
  });
});
