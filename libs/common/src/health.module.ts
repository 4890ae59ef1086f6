import { Module } from '@nestjs/common';
import { HealthService } from './health.service';

/** Readiness checks of the backing services; needs DatabaseModule and the global RedisModule. */
@Module({
  providers: [HealthService],
  exports: [HealthService],
})
export class HealthModule {}
