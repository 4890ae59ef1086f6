import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';

/** Answers 429 with a plain Retry-After (the stock guard names it after the throttler). */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const reply = context.switchToHttp().getResponse<{ header(name: string, value: string): void }>();
    reply.header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    throw new HttpException(
      { message: 'Too many attempts, try again later', error: 'Too Many Requests', retryAfterSeconds: detail.timeToBlockExpire },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
