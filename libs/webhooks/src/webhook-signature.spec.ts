import { Webhook } from 'standardwebhooks';
import { generateSecret, messageId, signatureHeaders, signingSecrets } from './webhook-signature';

describe('webhook-signature', () => {
  const body = JSON.stringify({ type: 'job.completed', timestamp: '2026-11-24T10:00:00.000Z', data: { jobId: 'j1' } });

  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('signs so that Standard Webhooks verifies with the secret, and only with it', () => {
    const secret = generateSecret();
    const headers = signatureHeaders('msg_1', body, [secret]);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow('No matching signature found');
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow('No matching signature found');
  });

  it('signs id.timestamp.body as the specification says (HMAC-SHA256 with the base64-decoded secret)', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const now = new Date(1_700_000_000_000);
    const headers = signatureHeaders('msg_p5jXN8AQM9LWM0D4loKWxJek', '{"test": 2432232314}', [secret], now);
    // The expected value is computed independently with node:crypto.
    const { createHmac } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')).update('msg_p5jXN8AQM9LWM0D4loKWxJek.1700000000.{"test": 2432232314}').digest('base64');
    expect(headers).toEqual({ 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1700000000', 'webhook-signature': `v1,${expected}` });
  });

  it('after a rotation sends two signatures, each valid with its own secret, until the old one expires', () => {
    const previous = generateSecret();
    const current = generateSecret();
    const now = new Date();
    const target = { secret: current, previousSecret: previous, previousSecretExpiresAt: new Date(now.getTime() + 1000) };
    const secrets = signingSecrets(target, now);
    expect(secrets).toEqual([current, previous]);
    const headers = signatureHeaders('msg_2', body, secrets, now);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature'].split(' ').every((part) => part.startsWith('v1,'))).toBe(true);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(signingSecrets(target, new Date(now.getTime() + 1000))).toEqual([current]);
  });

  it('derives one stable webhook-id per event and endpoint', () => {
    expect(messageId('job-1:webhook', 'w1')).toBe(messageId('job-1:webhook', 'w1'));
    expect(messageId('job-1:webhook', 'w1')).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(messageId('job-1:webhook', 'w2')).not.toBe(messageId('job-1:webhook', 'w1'));
    expect(messageId('job-2:webhook', 'w1')).not.toBe(messageId('job-1:webhook', 'w1'));
  });
});
