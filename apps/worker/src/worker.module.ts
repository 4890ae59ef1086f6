import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DatabaseModule, HealthModule, RedisModule } from '@app/common';
import { generationConfig } from '@app/config';
import { GenerationModule } from '@app/jobs';
import { MetricsModule } from '@app/metrics';
import { TracingModule } from '@app/tracing';
import { WebhookDeliveryModule } from '@app/webhooks';
import { GenerationProcessor } from './generation.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { MetricsServer } from './metrics-server.service';
import { WebhookProcessor } from './webhook.processor';
import { WorkerLoggerModule } from './logger.module';

const processors = [GenerationProcessor, MaintenanceProcessor, WebhookProcessor];

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: false }),
    ConfigModule.forFeature(generationConfig),
    WorkerLoggerModule,
    TracingModule,
    DatabaseModule,
    RedisModule,
    HealthModule,
    MetricsModule,
    GenerationModule,
    WebhookDeliveryModule,
  ],
  providers: [...processors, MetricsServer],
})
export class WorkerModule {}
