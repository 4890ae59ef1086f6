import type { OpenRouterStub } from '@app/testing';
import type { Env } from './test-env';

// The stand-in lives in libs/testing so library specs can use it too.
export { type OpenRouterStub, startOpenRouterStub, type StubRequest, type StubScript, stubAnswerFor } from '@app/testing';

/** The environment that points an app or worker at the stand-in instead of OpenRouter. */
export function openRouterStubEnv(stub: Pick<OpenRouterStub, 'url'>): Env {
  return { LLM_PROVIDER: 'openrouter', OPENROUTER_API_KEY: 'test-key', OPENROUTER_BASE_URL: stub.url };
}
