import { Controller, Get, Headers, Inject, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { metricsConfig, MetricsConfig } from '@app/config';
import { MetricsService, scrapeAllowed } from '@app/metrics';

/** Prometheus scrapes this; with METRICS_TOKEN set it wants `Authorization: Bearer <METRICS_TOKEN>`. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(metricsConfig.KEY) private readonly config: MetricsConfig,
  ) {}

  @Get()
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: { header(name: string, value: string): void }): Promise<string> {
    if (!scrapeAllowed(authorization, this.config.token)) throw new UnauthorizedException();
    const { contentType, body } = await this.metrics.render();
    reply.header('content-type', contentType);
    return body;
  }
}
