import { Logger } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { RetryDeliveryError, WebhookDeliveryService, WebhookJobMap } from '@app/webhooks';
import { outageStub, strictMock } from '@app/testing';
import { OUTAGE_DELAY_MAX_MS, OUTAGE_DELAY_MIN_MS, WebhookProcessor } from './webhook.processor';

const NOW = Date.parse('2026-11-24T10:00:00Z');
const TOKEN = 'lock-token-1';
const deliveryStub: WebhookJobMap['deliver'] = { eventId: 'j1:webhook', webhookId: '665000000000000000000001', userId: '665000000000000000000009', msgId: 'msg_1', type: 'job.completed', body: '{}' };
const eventStub: WebhookJobMap['event'] = { eventId: 'j1:webhook', type: 'job.completed', userId: '665000000000000000000009', body: '{"type":"job.completed"}' };

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe(WebhookProcessor.name, () => {
  let sut: WebhookProcessor;
  let deliveries: jest.Mocked<WebhookDeliveryService>;
  let now: number;

  const jobOf = <Name extends keyof WebhookJobMap>(name: Name, data: WebhookJobMap[Name], attemptsMade = 0) => {
    const job = Object.assign(strictMock<Job<WebhookJobMap[Name]>>(Job), { id: `${name}-1`, name, data, attemptsMade, opts: { attempts: 8 } });
    job.moveToDelayed.mockResolvedValue();
    job.updateData.mockResolvedValue();
    return job;
  };

  beforeEach(() => {
    deliveries = strictMock(WebhookDeliveryService);
    sut = new WebhookProcessor(deliveries);
    now = NOW;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('makes attempt attemptsMade + 1 and finishes on delivered', async () => {
    deliveries.deliver.mockResolvedValue({ action: 'done' });
    const job = jobOf('deliver', deliveryStub, 2);
    await expect(sut.process(job, TOKEN)).resolves.toBeUndefined();
    expect(deliveries.deliver).toHaveBeenCalledWith(deliveryStub, 3);
    expect(job.moveToDelayed).not.toHaveBeenCalled();
  });

  it('turns a retry verdict into a RetryDeliveryError (an attempt used) and a failure into an UnrecoverableError', async () => {
    deliveries.deliver.mockResolvedValueOnce({ action: 'retry', delayMs: 400, reason: 'HTTP 500' });
    const retried = await errorOf(sut.process(jobOf('deliver', deliveryStub), TOKEN));
    expect(retried).toBeInstanceOf(RetryDeliveryError);
    expect(retried).toMatchObject({ delayMs: 400 });
    deliveries.deliver.mockResolvedValueOnce({ action: 'fail', reason: 'HTTP 404' });
    expect(await errorOf(sut.process(jobOf('deliver', deliveryStub), TOKEN))).toBeInstanceOf(UnrecoverableError);
  });

  it.each([
    ['MongoDB', outageStub.mongo],
    ['Redis', outageStub.redis],
  ])('puts a delivery off without using an attempt while %s is down', async (_name, outage) => {
    deliveries.deliver.mockRejectedValue(outage);
    const job = jobOf('deliver', deliveryStub, 1);
    expect(await errorOf(sut.process(job, TOKEN))).toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(NOW + OUTAGE_DELAY_MIN_MS, TOKEN);
  });

  it('waits longer the longer the outage lasts, up to OUTAGE_DELAY_MAX_MS, and starts over once a job goes through', async () => {
    deliveries.deliver.mockRejectedValue(outageStub.mongo);
    const waits: number[] = [];
    for (const elapsed of [0, 5_000, 20_000, 120_000]) {
      now = NOW + elapsed;
      const job = jobOf('deliver', deliveryStub);
      await errorOf(sut.process(job, TOKEN));
      waits.push(job.moveToDelayed.mock.calls[0][0] - now);
    }
    expect(waits).toEqual([OUTAGE_DELAY_MIN_MS, 5_000, 20_000, OUTAGE_DELAY_MAX_MS]);

    deliveries.deliver.mockResolvedValueOnce({ action: 'done' });
    await sut.process(jobOf('deliver', deliveryStub), TOKEN);
    now += 60_000;
    const after = jobOf('deliver', deliveryStub);
    await errorOf(sut.process(after, TOKEN));
    expect(after.moveToDelayed).toHaveBeenCalledWith(now + OUTAGE_DELAY_MIN_MS, TOKEN);
  });

  it('puts a fan-out off during an outage too, so a long outage loses no event', async () => {
    deliveries.fanOut.mockRejectedValue(outageStub.mongo);
    const job = jobOf('event', eventStub);
    expect(await errorOf(sut.process(job, TOKEN))).toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(NOW + OUTAGE_DELAY_MIN_MS, TOKEN);
  });

  it('still throws an error that is not an outage (a bug uses an attempt)', async () => {
    deliveries.deliver.mockRejectedValue(new TypeError('boom'));
    const job = jobOf('deliver', deliveryStub);
    expect(await errorOf(sut.process(job, TOKEN))).toBeInstanceOf(TypeError);
    expect(job.moveToDelayed).not.toHaveBeenCalled();
  });

  it('fans an event out, then drops its body (only its id is kept, for dropping repeats)', async () => {
    deliveries.fanOut.mockResolvedValue(2);
    const job = jobOf('event', eventStub);
    await expect(sut.process(job, TOKEN)).resolves.toBe(2);
    expect(deliveries.fanOut).toHaveBeenCalledWith(eventStub);
    expect(job.updateData).toHaveBeenCalledWith({ ...eventStub, body: '' });
  });

  it('refuses a job name without a handler', async () => {
    await expect(sut.process(Object.assign(strictMock<Job>(Job), { name: 'nope' }), TOKEN)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
