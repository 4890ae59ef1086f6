import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { LlmProvider } from './llm-provider';
import { OfflineProvider } from './offline.provider';
import { OpenRouterClient } from './openrouter.client';
import { LlmModule } from './llm.module';

describe(LlmModule.name, () => {
  const savedEnv = { ...process.env };

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  async function providerFor(env: Record<string, string | undefined>): Promise<LlmProvider> {
    process.env = { ...savedEnv, OPENROUTER_API_KEY: undefined, OPENROUTER_KEY: undefined, LLM_PROVIDER: undefined, ...env };
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), LlmModule],
    }).compile();
    return moduleRef.get(LlmProvider);
  }

  it('provides the offline provider when no API key is set', async () => {
    await expect(providerFor({})).resolves.toBeInstanceOf(OfflineProvider);
  });

  it('provides the OpenRouter client when an API key is set', async () => {
    await expect(providerFor({ OPENROUTER_API_KEY: 'sk-or-test' })).resolves.toBeInstanceOf(OpenRouterClient);
  });

  it('honours LLM_PROVIDER=offline even with a key', async () => {
    await expect(providerFor({ OPENROUTER_API_KEY: 'sk-or-test', LLM_PROVIDER: 'offline' })).resolves.toBeInstanceOf(OfflineProvider);
  });

  it('gives the offline provider the LLM_MAX_OUTPUT_CHARS limit', async () => {
    const provider = await providerFor({ LLM_MAX_OUTPUT_CHARS: '10' });

    await expect(provider.generate({ prompt: 'a cat', contentType: 'Social Media Caption' })).rejects.toMatchObject({
      code: 'LLM_OUTPUT_TOO_LARGE',
      message: 'LLM answer exceeded 10 characters',
    });
  });

  it('refuses an LLM_MAX_OUTPUT_CHARS below 1', async () => {
    await expect(providerFor({ LLM_MAX_OUTPUT_CHARS: '0' })).rejects.toThrow(/^Invalid configuration: LLM_MAX_OUTPUT_CHARS must be an integer between 1 and/);
  });
});
