import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MetricsService } from '@app/metrics';

/**
 * Observes every answer in `http_request_duration_seconds`, labelled with the route template
 * (`/generate-content/:jobId`, never the raw URL, so ids do not become label values).
 */
export function observeRequestDurations(app: NestFastifyApplication): void {
  const metrics = app.get(MetricsService);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      metrics.httpRequestServed(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
}
