import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { HealthService } from '@app/common';
import { metricsConfig, MetricsConfig } from '@app/config';
import { GENERATION_QUEUE } from '@app/jobs';
import { MetricsService, QUEUE_STATES, scrapeAllowed } from '@app/metrics';

/**
 * The worker has no HTTP API: this small server on WORKER_METRICS_PORT (0 = off) gives Prometheus
 * `/metrics` and orchestrators `/health` (process up) and `/health/ready` (MongoDB and Redis answer).
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    private readonly health: HealthService,
    @Inject(metricsConfig.KEY) private readonly config: MetricsConfig,
    @InjectQueue(GENERATION_QUEUE) queue: Queue,
  ) {
    metrics.countQueueWith(() => queue.getJobCounts(...QUEUE_STATES));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.workerPort === 0) return;
    const server = createServer((request, response) => {
      this.handle(request, response).catch(() => reply(response, 500, { statusCode: 500, message: 'Internal server error' }));
    });
    server.listen(this.config.workerPort, '0.0.0.0');
    try {
      await once(server, 'listening');
    } catch (error) {
      // Metrics are not worth stopping the jobs for (a second worker on one host, a port taken): say so and go on.
      this.logger.warn(`Metrics server not started on port ${this.config.workerPort}: ${(error as Error).message}`);
      return;
    }
    this.server = server;
    const { port } = server.address() as { port: number };
    this.logger.log(`Metrics on http://localhost:${port}/metrics (health: /health, /health/ready)`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, { statusCode: 405, message: 'Method not allowed' });
    if (path === '/health') return reply(response, 200, { status: 'ok' });
    if (path === '/health/ready') {
      const checks = await this.health.check();
      const ok = checks.mongodb === 'up' && checks.redis === 'up';
      return reply(response, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', message: ok ? 'ready' : 'a backing service is down', checks });
    }
    if (path === '/metrics') {
      if (!scrapeAllowed(request.headers.authorization, this.config.token)) return reply(response, 401, { statusCode: 401, message: 'Unauthorized' });
      const { contentType, body } = await this.metrics.render();
      response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
      return;
    }
    reply(response, 404, { statusCode: 404, message: 'Not found' });
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
