import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { metricsConfig } from '@app/config';
import { MetricsService } from './metrics.service';

/** The product's Prometheus metrics, one registry per application; `metricsConfig` for the scrape endpoints. */
@Module({
  imports: [ConfigModule.forFeature(metricsConfig)],
  providers: [MetricsService],
  exports: [MetricsService, ConfigModule],
})
export class MetricsModule {}
