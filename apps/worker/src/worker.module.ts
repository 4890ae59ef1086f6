import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DatabaseModule, RedisModule } from '@app/common';
import { generationConfig } from '@app/config';
import { GenerationModule } from '@app/jobs';
import { GenerationProcessor } from './generation.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { WorkerLoggerModule } from './logger.module';

const processors = [GenerationProcessor, MaintenanceProcessor];

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: false }),
    ConfigModule.forFeature(generationConfig),
    WorkerLoggerModule,
    DatabaseModule,
    RedisModule,
    GenerationModule,
  ],
  providers: processors,
})
export class WorkerModule {}
