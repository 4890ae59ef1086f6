import { openRouterConfig, type OpenRouterConfig } from '@app/config';
import { Module, type Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LlmProvider } from './llm-provider';
import { OfflineProvider } from './offline.provider';
import { OpenRouterClient } from './openrouter.client';

const providers: Provider[] = [
  {
    provide: LlmProvider,
    inject: [openRouterConfig.KEY],
    useFactory: (config: OpenRouterConfig): LlmProvider =>
      config.provider === 'openrouter' ? new OpenRouterClient(config) : new OfflineProvider({ maxOutputChars: config.maxOutputChars }),
  },
];

/** Provides `LlmProvider`: OpenRouter when configured (an API key is set), offline sample text otherwise. */
@Module({
  imports: [ConfigModule.forFeature(openRouterConfig)],
  providers,
  exports: [LlmProvider],
})
export class LlmModule {}
