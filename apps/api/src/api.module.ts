import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '@app/auth';
import { DatabaseModule, HealthModule, RedisModule } from '@app/common';
import { appConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { JobsModule } from '@app/jobs';
import { MetricsModule } from '@app/metrics';
import { TemplatesModule } from '@app/templates';
import { TracingModule } from '@app/tracing';
import { WebhooksModule } from '@app/webhooks';
import { AccountModule } from './account/account.module';
import { AdminSessionController } from './admin/admin-session.controller';
import { AdminController } from './admin/admin.controller';
import { AuthThrottleModule } from './auth/auth-throttle.module';
import { AuthController } from './auth/auth.controller';
import { ContentController } from './content/content.controller';
import { HealthController } from './health/health.controller';
import { BatchGenerateController } from './jobs/batch-generate.controller';
import { BatchesController } from './jobs/batches.controller';
import { GenerateContentController } from './jobs/generate-content.controller';
import { ApiLoggerModule } from './logger.module';
import { MetricsController } from './metrics/metrics.controller';
import { NotificationsController } from './notifications/notifications.controller';
import { RealtimeModule } from './realtime/realtime.module';
import { TemplatesController } from './templates/templates.controller';
import { UsageController } from './usage/usage.controller';
import { WebhooksController } from './webhooks/webhooks.controller';

const controllers = [AuthController, HealthController, ContentController, BatchGenerateController, GenerateContentController, BatchesController, NotificationsController, AdminController, AdminSessionController, MetricsController, TemplatesController, WebhooksController, UsageController];

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: false }),
    ConfigModule.forFeature(appConfig),
    ApiLoggerModule,
    TracingModule,
    DatabaseModule,
    RedisModule,
    HealthModule,
    MetricsModule,
    AuthModule,
    AuthThrottleModule,
    ContentModule,
    TemplatesModule,
    JobsModule,
    WebhooksModule,
    RealtimeModule,
    AccountModule,
  ],
  controllers,
})
export class ApiModule {}
