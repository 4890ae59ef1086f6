import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DependencyHealth, HealthService } from '@app/common';

interface Readiness {
  status: 'ok' | 'unavailable';
  message: string;
  checks: DependencyHealth;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'The process is alive' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'MongoDB and Redis answer (503 otherwise)' })
  async ready(@Res({ passthrough: true }) reply: { status(code: number): void }): Promise<Readiness> {
    const checks = await this.health.check();
    const ok = checks.mongodb === 'up' && checks.redis === 'up';
    reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', message: ok ? 'ready' : 'a backing service is down', checks };
  }
}
