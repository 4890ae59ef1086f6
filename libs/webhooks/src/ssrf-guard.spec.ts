import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { AddressClass, classifyAddress, guardedLookup, REFUSED_ADDRESS, Resolve, targetProblem, UNRESOLVED, urlProblem } from './ssrf-guard';
import { sendWebhook } from './webhook.client';

// The refusals' detail goes to the debug log (checked below), not to the test output.
let debug: jest.SpyInstance;
beforeEach(() => (debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined)));
afterEach(() => debug.mockRestore());

/** A resolver from a fixed table; an unknown name does not resolve. */
function fakeResolver(table: Record<string, string[]>): Resolve & jest.Mock {
  return jest.fn(async (host: string) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses;
  });
}

const closed = { allowPrivate: false, httpsOnly: false };

describe('ssrf-guard', () => {
  describe(classifyAddress.name, () => {
    const cases: [string, AddressClass | undefined][] = [
      // IPv4
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'metadata'],
      ['169.254.0.1', 'metadata'],
      ['169.254.170.2', 'metadata'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['100.100.100.200', 'metadata'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['8.8.8.8', undefined],
      ['172.32.0.1', undefined],
      ['100.128.0.1', undefined],
      ['93.184.216.34', undefined],
      // IPv6
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fc00::1', 'unique-local'],
      ['fd00::1', 'unique-local'],
      ['fd00:ec2::254', 'metadata'],
      ['fd00:ec2::1', 'metadata'],
      ['fd00:ec3::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['ff02::1', 'multicast'],
      ['fec0::1', 'private'],
      ['2001:db8::1', 'reserved'],
      ['2001:0::1', 'reserved'],
      ['2606:4700:4700::1111', undefined],
      ['[2606:4700:4700::1111]', undefined],
      // IPv4-mapped, both spellings, and other IPv4 embeddings
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:a9fe:a9fe', 'metadata'],
      ['::ffff:8.8.8.8', undefined],
      ['::127.0.0.1', 'reserved'],
      ['64:ff9b::127.0.0.1', 'loopback'],
      ['64:ff9b::a00:1', 'private'],
      ['64:ff9b::8.8.8.8', undefined],
      ['2002:7f00:1::1', 'loopback'],
      ['2002:c0a8:101::1', 'private'],
      ['2002:808:808::1', undefined],
      // not an address
      ['not-an-ip', 'reserved'],
      ['1:2:3', 'reserved'],
    ];
    it.each(cases)('%s → %s', (address, expected) => {
      expect(classifyAddress(address)).toBe(expected);
    });
  });

  describe(urlProblem.name, () => {
    it.each([
      ['ftp://example.com/', 'url must use http or https'],
      ['file:///etc/passwd', 'url must use http or https'],
      ['not a url', 'url must be an absolute http(s) URL'],
      ['https://user:pass@example.com/', 'url must not contain credentials'],
      ['http://metadata.google.internal/computeMetadata/v1/', 'url names a cloud metadata host, which webhooks may not reach'],
      ['http://localhost:3000/', REFUSED_ADDRESS],
      ['http://api.localhost/', REFUSED_ADDRESS],
      ['http://127.0.0.1/', REFUSED_ADDRESS],
      ['http://2130706433/', REFUSED_ADDRESS],
      ['http://0x7f.1/', REFUSED_ADDRESS],
      ['http://[::1]/', REFUSED_ADDRESS],
      ['http://[::ffff:127.0.0.1]/', REFUSED_ADDRESS],
      ['http://[fd00::1]/', REFUSED_ADDRESS],
      ['http://169.254.169.254/latest/meta-data/', REFUSED_ADDRESS],
      ['http://100.64.0.1/', REFUSED_ADDRESS],
      ['http://224.0.0.1/', REFUSED_ADDRESS],
    ])('%s is refused', (url, problem) => {
      expect(urlProblem(url, closed)).toEqual(problem);
    });

    it('accepts public http(s) URLs on any port, and https only in production', () => {
      expect(urlProblem('http://example.com:8080/hook', closed)).toBeUndefined();
      expect(urlProblem('https://93.184.216.34/hook', closed)).toBeUndefined();
      expect(urlProblem('http://example.com/hook', { allowPrivate: false, httpsOnly: true })).toBe('url must use https');
      expect(urlProblem('https://example.com/hook', { allowPrivate: false, httpsOnly: true })).toBeUndefined();
    });

    it('allows private targets with allowPrivate, but never metadata ones', () => {
      const open = { allowPrivate: true, httpsOnly: false };
      expect(urlProblem('http://127.0.0.1:9000/', open)).toBeUndefined();
      expect(urlProblem('http://localhost:9000/', open)).toBeUndefined();
      expect(urlProblem('http://169.254.169.254/', open)).toBe(REFUSED_ADDRESS);
      expect(urlProblem('http://169.254.1.1/', open)).toBe(REFUSED_ADDRESS);
      expect(urlProblem('http://[fd00:ec2::254]/', open)).toBe(REFUSED_ADDRESS);
      expect(urlProblem('http://[fd12::1]/', open)).toBeUndefined();
      expect(urlProblem('http://metadata.google.internal/', open)).toContain('metadata');
    });
  });

  describe(targetProblem.name, () => {
    const resolve = fakeResolver({
      'public.test': ['93.184.216.34'],
      'loopback.test': ['127.0.0.1'],
      'private.test': ['10.1.2.3'],
      'linklocal.test': ['169.254.10.10'],
      'metadata.test': ['169.254.169.254'],
      'cgnat.test': ['100.64.1.1'],
      'ula.test': ['fd12:3456::1'],
      'v6loop.test': ['::1'],
      'mapped.test': ['::ffff:192.168.0.1'],
      'multicast.test': ['224.0.0.251'],
      'mixed.test': ['93.184.216.34', '10.0.0.1'],
    });

    it('accepts a host that resolves only to public addresses', async () => {
      await expect(targetProblem('https://public.test/hook', closed, resolve)).resolves.toBeUndefined();
    });

    it.each([
      ['loopback.test', 'loopback'],
      ['private.test', 'private'],
      ['linklocal.test', 'metadata'],
      ['metadata.test', 'metadata'],
      ['cgnat.test', 'cgnat'],
      ['ula.test', 'unique-local'],
      ['v6loop.test', 'loopback'],
      ['mapped.test', 'private'],
      ['multicast.test', 'multicast'],
      ['mixed.test', 'private'],
    ])('refuses %s (resolves to a %s address) without naming the address', async (host, kind) => {
      await expect(targetProblem(`https://${host}/hook`, closed, resolve)).resolves.toBe(REFUSED_ADDRESS);
      expect(debug).toHaveBeenCalledWith(expect.stringContaining(`${kind} address`));
    });

    it('refuses a host that does not resolve, without naming it', async () => {
      await expect(targetProblem('https://nowhere.test/', closed, resolve)).resolves.toBe(UNRESOLVED);
    });

    it('does not resolve an address literal', async () => {
      await expect(targetProblem('https://93.184.216.34/', closed, resolve)).resolves.toBeUndefined();
      expect(resolve).not.toHaveBeenCalledWith('93.184.216.34');
    });
  });

  describe('at connect time', () => {
    let server: Server;
    let port: number;
    let hits: number;

    beforeAll(async () => {
      hits = 0;
      server = createServer((_request, response) => {
        hits++;
        response.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('refuses a name that passed at registration but resolves privately at connect (DNS rebinding)', async () => {
      let answers = 0;
      // First answer public (registration), then loopback (the delivery's connect).
      const rebinding: Resolve = async () => (answers++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']);
      await expect(targetProblem(`http://rebind.test:${port}/`, closed, rebinding)).resolves.toBeUndefined();
      const before = hits;
      const response = await sendWebhook({ url: `http://rebind.test:${port}/`, headers: {}, body: '{}' }, { ...closed, timeoutMs: 2000, resolve: rebinding });
      expect(response).toMatchObject({ failure: 'refused', error: REFUSED_ADDRESS });
      expect(response.statusCode).toBeUndefined();
      expect(hits).toBe(before);
    });

    it('connects through the checked address when it is allowed', async () => {
      const resolve = fakeResolver({ 'hooks.test': ['127.0.0.1'] });
      const response = await sendWebhook({ url: `http://hooks.test:${port}/`, headers: {}, body: '{}' }, { allowPrivate: true, httpsOnly: false, timeoutMs: 2000, resolve });
      expect(response).toMatchObject({ statusCode: 200, responseBytes: 2 });
      expect(resolve).toHaveBeenCalledWith('hooks.test');
    });

    it('refuses an address literal before connecting', async () => {
      const before = hits;
      const response = await sendWebhook({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' }, { ...closed, timeoutMs: 2000 });
      expect(response).toMatchObject({ failure: 'refused' });
      expect(hits).toBe(before);
    });

    it('answers both lookup shapes Node asks for (one address, or all)', async () => {
      const lookup = guardedLookup(closed, fakeResolver({ 'public.test': ['93.184.216.34', '2606:4700::1'] }));
      const one = await new Promise((resolve) => lookup('public.test', {}, (error, address, family) => resolve({ error, address, family })));
      expect(one).toEqual({ error: null, address: '93.184.216.34', family: 4 });
      const all = await new Promise((resolve) => lookup('public.test', { all: true }, (error, addresses) => resolve({ error, addresses })));
      expect(all).toEqual({ error: null, addresses: [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700::1', family: 6 }] });
    });
  });
});
