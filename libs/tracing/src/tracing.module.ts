import { Module, OnApplicationShutdown } from '@nestjs/common';
import { shutdownTracing } from './tracing';

/** Flushes the spans still buffered when the application closes (SIGTERM included). */
@Module({})
export class TracingModule implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return shutdownTracing();
  }
}
