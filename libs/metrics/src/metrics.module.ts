import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { metricsConfig } from '@app/config';
import { MetricsService } from './metrics.service';

/**
 * The product's Prometheus metrics, one registry per application; `metricsConfig` for the scrape endpoints.
 * Global (imported once by each app) so the libraries that observe something just inject MetricsService.
 */
@Global()
@Module({
  imports: [ConfigModule.forFeature(metricsConfig)],
  providers: [MetricsService],
  exports: [MetricsService, ConfigModule],
})
export class MetricsModule {}
