import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection } from 'mongoose';
import { RedisConnection } from '@app/common';

const CHECK_TIMEOUT_MS = 1500;

type Check = 'up' | 'down';

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectConnection() private readonly mongo: Connection,
    @Inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The process is alive' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'MongoDB and Redis answer (503 otherwise)' })
  async ready(@Res({ passthrough: true }) reply: { status(code: number): void }) {
    const [mongodb, redis] = await Promise.all([this.check(() => this.mongo.db!.admin().ping()), this.check(() => this.redis.ping())]);
    const ok = mongodb === 'up' && redis === 'up';
    reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', message: ok ? 'ready' : 'a backing service is down', checks: { mongodb, redis } };
  }

  private async check(probe: () => Promise<unknown>): Promise<Check> {
    try {
      await withTimeout(probe());
      return 'up';
    } catch {
      return 'down';
    }
  }
}
