import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Logger } from '@nestjs/common';

// Where a name resolves is internal knowledge: users get a generic refusal, the detail goes to the debug log.
const logger = new Logger('WebhookTarget');
export const REFUSED_ADDRESS = 'url resolves to an address that is not allowed';
export const UNRESOLVED = 'url could not be resolved';

/** Why an address is not a webhook target; undefined for a public address. */
export type AddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'cgnat'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** Names a host's addresses; the system resolver by default, a fake in tests. */
export type Resolve = (host: string) => Promise<string[]>;

/** A name that does not resolve within this long is refused (a slow DNS server must not hold a request). */
const RESOLVE_TIMEOUT_MS = 5000;

/** The system resolver (getaddrinfo: /etc/hosts and DNS), bounded in time. */
export const systemResolve: Resolve = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`resolving ${host} took over ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([lookup(host, { all: true, verbatim: true }), timeout])).map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
};

/** Cloud metadata endpoints that are public addresses or host names (169.254.169.254 is link-local already). */
const METADATA_ADDRESSES = new Set(['168.63.129.16', '100.100.100.200']);
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'metadata.azure.com', 'instance-data', 'instance-data.ec2.internal']);

type V4Range = [base: number, bits: number, kind: AddressClass];

// Order matters: the first match names the class (broadcast before reserved). All of link-local IPv4 counts as
// metadata (refused even with WEBHOOK_ALLOW_PRIVATE): AWS, ECS, Azure and GCP serve credentials there, not only at .254.
const V4_RANGES: V4Range[] = [
  [v4('169.254.0.0'), 16, 'metadata'],
  [v4('0.0.0.0'), 8, 'unspecified'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.168.0.0'), 16, 'private'],
  [v4('100.64.0.0'), 10, 'cgnat'],
  [v4('192.0.0.0'), 24, 'reserved'],
  [v4('192.0.2.0'), 24, 'reserved'],
  [v4('198.18.0.0'), 15, 'reserved'],
  [v4('198.51.100.0'), 24, 'reserved'],
  [v4('203.0.113.0'), 24, 'reserved'],
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('255.255.255.255'), 32, 'broadcast'],
  [v4('240.0.0.0'), 4, 'reserved'],
];

function v4(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function inV4Range(value: number, [base, bits]: V4Range): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(base / size);
}

function classifyV4(value: number, dotted: string): AddressClass | undefined {
  if (METADATA_ADDRESSES.has(dotted)) return 'metadata';
  return V4_RANGES.find((range) => inV4Range(value, range))?.[2];
}

function dotted(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, a dotted IPv4 tail expanded); undefined when malformed. */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0].toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    if (isIP(tail[1]) !== 4) return undefined;
    const value = v4(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${Math.floor(value / 65536).toString(16)}:${(value % 65536).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? parseInt(group, 16) : NaN)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest];
  return groups.some(Number.isNaN) ? undefined : groups;
}

function embeddedV4(high: number, low: number): number {
  return high * 65536 + low;
}

function classifyV6(groups: number[]): AddressClass | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d (also written ::ffff:7f00:1): the IPv4 address is the target.
  if (zeroPrefix && g5 === 0xffff) return classifyEmbedded(embeddedV4(g6, g7));
  // IPv4-compatible ::a.b.c.d (deprecated) and IPv4-translated ::ffff:0:a.b.c.d: nothing legitimate uses them.
  if (zeroPrefix || (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0)) return 'reserved';
  // NAT64 64:ff9b::/96 reaches the embedded IPv4 address; the local-use 64:ff9b:1::/48 is internal.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyEmbedded(embeddedV4(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'reserved';
  // 6to4 2002:AABB:CCDD::/48 relays to the IPv4 address AA.BB.CC.DD.
  if (g0 === 0x2002) return classifyEmbedded(embeddedV4(g1, g2));
  // Teredo hides the IPv4 address it reaches; documentation and discard prefixes are never targets.
  if (g0 === 0x2001 && g1 === 0) return 'reserved';
  if (g0 === 0x2001 && g1 === 0xdb8) return 'reserved';
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved';
  // AWS's IPv6 metadata service (fd00:ec2::254) and its neighbours: inside unique-local, but refused like metadata.
  if (g0 === 0xfd00 && g1 === 0xec2) return 'metadata';
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // Site-local (deprecated) is private by design.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  // Only 2000::/3 is allocated for global unicast.
  if ((g0 & 0xe000) !== 0x2000) return 'reserved';
  return undefined;
}

function classifyEmbedded(value: number): AddressClass | undefined {
  return classifyV4(value, dotted(value));
}

/**
 * Why `address` (IPv4 or IPv6, in any form Node or a URL may give it) must not be a webhook target:
 * undefined when it is a public unicast address. Anything unparsable is `reserved`.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIP(bare) === 4) return classifyV4(v4(bare), bare);
  const groups = ipv6Groups(bare);
  return groups ? classifyV6(groups) : 'reserved';
}

export interface TargetPolicy {
  /** WEBHOOK_ALLOW_PRIVATE: internal addresses allowed (never metadata ones). */
  allowPrivate: boolean;
  /** Production: https only. */
  httpsOnly: boolean;
}

/** The refusal of an address by the policy (generic: it does not name the address; the debug log does); undefined when allowed. */
export function refusedAddress(address: string, policy: Pick<TargetPolicy, 'allowPrivate'>): string | undefined {
  const kind = classifyAddress(address);
  if (!kind) return undefined;
  // Metadata services hand out credentials: refused even where private targets are allowed.
  if (policy.allowPrivate && kind !== 'metadata') return undefined;
  logger.debug(`refused a webhook target: ${kind} address ${address}`);
  return REFUSED_ADDRESS;
}

/** Why `url` can never be a webhook target, before any DNS: scheme, credentials, host form. Undefined when fine. */
export function urlProblem(url: string, policy: TargetPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url must be an absolute http(s) URL';
  }
  if (parsed.protocol !== 'https:' && (policy.httpsOnly || parsed.protocol !== 'http:')) return policy.httpsOnly ? 'url must use https' : 'url must use http or https';
  if (parsed.username || parsed.password) return 'url must not contain credentials';
  const host = hostOf(parsed);
  if (!host) return 'url must name a host';
  if (METADATA_HOSTS.has(host)) return 'url names a cloud metadata host, which webhooks may not reach';
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return REFUSED_ADDRESS;
  if (isIP(host)) return refusedAddress(host, policy);
  return undefined;
}

/** The URL's host as DNS or an address: brackets of an IPv6 literal and a trailing dot removed, lower case. */
export function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

/** A URL or host refused as a webhook target; its message says why without naming addresses. */
export class RefusedTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedTargetError';
  }
}

/**
 * The addresses `host` resolves to, all of which the policy allows; throws RefusedTargetError when any is
 * refused (a name that resolves to one public and one private address is refused) or none resolves.
 */
export async function resolveAllowed(host: string, policy: Pick<TargetPolicy, 'allowPrivate'>, resolve: Resolve): Promise<string[]> {
  if (isIP(host)) {
    const problem = refusedAddress(host, policy);
    if (problem) throw new RefusedTargetError(problem);
    return [host];
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    logger.debug(`refused a webhook target: ${host} does not resolve (${(error as Error).message})`);
    throw new RefusedTargetError(UNRESOLVED);
  }
  if (addresses.length === 0) {
    logger.debug(`refused a webhook target: ${host} resolves to no address`);
    throw new RefusedTargetError(UNRESOLVED);
  }
  for (const address of addresses) {
    const problem = refusedAddress(address, policy);
    if (problem) throw new RefusedTargetError(problem);
  }
  return addresses;
}

/** Everything checked at registration: the URL's form, then every address its host resolves to. Returns the problem, or undefined. */
export async function targetProblem(url: string, policy: TargetPolicy, resolve: Resolve = systemResolve): Promise<string | undefined> {
  const problem = urlProblem(url, policy);
  if (problem) return problem;
  try {
    await resolveAllowed(hostOf(new URL(url)), policy, resolve);
    return undefined;
  } catch (error) {
    if (error instanceof RefusedTargetError) return error.message;
    throw error;
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/**
 * A `lookup` for http(s).request that checks the addresses at connect time (DNS rebinding: the name may
 * resolve elsewhere now than at registration). Node calls it only for host names; literals are checked before.
 */
export function guardedLookup(policy: Pick<TargetPolicy, 'allowPrivate'>, resolve: Resolve = systemResolve) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveAllowed(hostname, policy, resolve).then(
      (addresses) => {
        const entries = addresses.map((address) => ({ address, family: isIP(address) }));
        if (options.all) callback(null, entries);
        else callback(null, entries[0].address, entries[0].family);
      },
      (error: Error) => callback(Object.assign(error, { code: 'EWEBHOOKTARGET' }), '', 0),
    );
  };
}
