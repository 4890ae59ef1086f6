import { registerAs } from '@nestjs/config';
import { IsOptional, IsString } from 'class-validator';
import { IntVar, validateEnv } from './validate-env';

class MetricsEnv {
  /** When set, GET /metrics (API and worker) wants `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @IsString()
  METRICS_TOKEN?: string = undefined;

  /** The worker's HTTP port for /metrics, /health and /health/ready; 0 turns it off. */
  @IntVar('WORKER_METRICS_PORT', 0, 65535)
  WORKER_METRICS_PORT = 9464;
}

export const metricsConfig = registerAs('metrics', () => {
  const env = validateEnv(MetricsEnv);
  return {
    token: env.METRICS_TOKEN,
    workerPort: env.WORKER_METRICS_PORT,
  };
});
export type MetricsConfig = ReturnType<typeof metricsConfig>;
