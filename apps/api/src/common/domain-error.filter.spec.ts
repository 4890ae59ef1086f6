import { ArgumentsHost, BadRequestException, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '@app/common';
import { outageStub } from '@app/testing';
import { DomainErrorFilter } from './domain-error.filter';

/** What the filter sees of Fastify's reply. */
interface ReplyStub {
  status: jest.Mock;
  send: jest.Mock;
  header: jest.Mock;
}

const errorStub = {
  fastifyBodyTooLarge: Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
  fastifyNoCode: Object.assign(new Error('Bad thing in the request'), { statusCode: 400 }),
  fastify5xx: Object.assign(new Error('internal detail: /srv/secret'), { statusCode: 502 }),
  bug: new TypeError("Cannot read properties of undefined (reading 'x')"),
};

describe(DomainErrorFilter.name, () => {
  let sut: DomainErrorFilter;
  let reply: ReplyStub;
  let host: ArgumentsHost;
  let logError: jest.SpyInstance;
  let logWarn: jest.SpyInstance;

  beforeEach(() => {
    sut = new DomainErrorFilter();
    reply = { status: jest.fn(), send: jest.fn(), header: jest.fn() };
    reply.status.mockReturnValue(reply);
    host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    logWarn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  describe('domain errors', () => {
    it.each<[DomainErrorCode, number]>([
      ['EMAIL_TAKEN', 409],
      ['INVALID_CREDENTIALS', 401],
      ['UNAUTHENTICATED', 401],
      ['USER_INACTIVE', 403],
      ['NOT_FOUND', 404],
      ['JOB_NOT_FOUND', 404],
      ['CONTENT_NOT_FOUND', 404],
      ['JOB_NOT_COMPLETED', 409],
      ['JOB_FINISHED', 409],
      ['TEMPLATE_NOT_FOUND', 404],
      ['TEMPLATE_READ_ONLY', 403],
      ['TEMPLATE_LIMIT_REACHED', 409],
      ['WEBHOOK_LIMIT_REACHED', 409],
      ['TOO_MANY_ACTIVE_JOBS', 429],
      ['RATE_LIMITED', 429],
      ['IDEMPOTENCY_CONFLICT', 422],
      ['IDEMPOTENCY_IN_PROGRESS', 409],
      ['INVALID_ARGUMENT', 400],
      ['DEPENDENCY_UNAVAILABLE', 503],
    ])('answers %s with %i, the code as error and the message', (code, status) => {
      expect(sut.toBody(new DomainError(code, `message of ${code}`))).toEqual({ statusCode: status, error: code, message: `message of ${code}` });
      expect(logError).not.toHaveBeenCalled();
    });

    it('spreads the details into the body', () => {
      const error = new DomainError('JOB_NOT_COMPLETED', 'Job is queued; only completed jobs can be saved', { currentStatus: 'queued' });

      expect(sut.toBody(error)).toEqual({ statusCode: 409, error: 'JOB_NOT_COMPLETED', message: 'Job is queued; only completed jobs can be saved', currentStatus: 'queued' });
    });
  });

  describe('HTTP exceptions', () => {
    it('keeps a validation error: its messages joined, its name and extra fields', () => {
      const error = new BadRequestException({ message: ['name must be a string', 'email must be an email'], error: 'Bad Request', details: [{ field: 'name' }] });

      expect(sut.toBody(error)).toEqual({ statusCode: 400, error: 'Bad Request', message: 'name must be a string; email must be an email', details: [{ field: 'name' }] });
    });

    it('names the status when the exception has a plain string response', () => {
      expect(sut.toBody(new HttpException('Slow down', HttpStatus.TOO_MANY_REQUESTS))).toEqual({ statusCode: 429, error: 'TOO MANY REQUESTS', message: 'Slow down' });
    });

    it("uses Nest's own body of a built-in exception", () => {
      expect(sut.toBody(new NotFoundException('Cannot GET /nowhere'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /nowhere' });
    });
  });

  describe('other errors', () => {
    it("passes Fastify's 4xx errors on with their code and message", () => {
      expect(sut.toBody(errorStub.fastifyBodyTooLarge)).toEqual({ statusCode: 413, error: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' });
      expect(sut.toBody(errorStub.fastifyNoCode)).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Bad thing in the request' });
    });

    it('answers 503 for a dependency that is down, logged as a warning', () => {
      expect(sut.toBody(outageStub.mongo)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'A backing service is unavailable, try again shortly' });
      expect(logWarn).toHaveBeenCalledWith('Dependency unavailable: connect ECONNREFUSED 127.0.0.1:27017');
    });

    it.each([
      ['a bug', errorStub.bug],
      ['an error with a 5xx statusCode', errorStub.fastify5xx],
      ['a thrown string', 'boom'],
    ])('answers %s with a generic 500 and keeps the details in the log only', (_name, error) => {
      expect(sut.toBody(error)).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
      expect(logError).toHaveBeenCalledTimes(1);
    });
  });

  describe('catch', () => {
    it('sends the body with its status', () => {
      sut.catch(new DomainError('JOB_NOT_FOUND', 'Job not found'), host);

      expect(reply.status).toHaveBeenCalledWith(404);
      expect(reply.send).toHaveBeenCalledWith({ statusCode: 404, error: 'JOB_NOT_FOUND', message: 'Job not found' });
      expect(reply.header).not.toHaveBeenCalled();
    });

    it.each([
      ['DEPENDENCY_UNAVAILABLE', new DomainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly')],
      ['a dependency that is down', outageStub.mongo],
    ])('adds Retry-After: 5 to a 503 (%s)', (_name, error) => {
      sut.catch(error, host);

      expect(reply.header).toHaveBeenCalledWith('Retry-After', '5');
      expect(reply.status).toHaveBeenCalledWith(503);
      expect(reply.send).toHaveBeenCalledTimes(1);
    });

    it('sets Retry-After and the RateLimit headers (whole seconds) from a RATE_LIMITED error, keeping its details in the body', () => {
      const details = { limit: 10, remaining: 0, resetSeconds: 41.2, retryAfterSeconds: 41.2, window: 'minute' };

      sut.catch(new DomainError('RATE_LIMITED', 'You may queue 10 jobs per minute', details), host);

      expect(reply.header.mock.calls).toEqual([
        ['Retry-After', '42'],
        ['RateLimit-Limit', '10'],
        ['RateLimit-Remaining', '0'],
        ['RateLimit-Reset', '42'],
      ]);
      expect(reply.status).toHaveBeenCalledWith(429);
      expect(reply.send).toHaveBeenCalledWith({ statusCode: 429, error: 'RATE_LIMITED', message: 'You may queue 10 jobs per minute', ...details });
    });

    it('sets only Retry-After on a RATE_LIMITED error without a window (the daily token budget)', () => {
      sut.catch(new DomainError('RATE_LIMITED', 'You used your 100 tokens for today', { retryAfterSeconds: 3600 }), host);

      expect(reply.header.mock.calls).toEqual([['Retry-After', '3600']]);
    });
  });
});
