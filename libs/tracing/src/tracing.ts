import type { NodeSDK } from '@opentelemetry/sdk-node';

/** Probes and scrapes: no trace of interest, and many of them. */
const UNTRACED_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/** The standard OTEL_NODE_ENABLED_INSTRUMENTATIONS when it is not set (names without `@opentelemetry/instrumentation-`). */
const DEFAULT_INSTRUMENTATIONS = 'http,undici,ioredis,mongodb';

let sdk: NodeSDK | undefined;

/** Tracing is on only when an OTLP endpoint is configured (and OTEL_SDK_DISABLED is not true). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the OpenTelemetry SDK (traces only, exported as the standard OTEL_* variables say) when tracing is on.
 * Must run before http, fastify, ioredis and mongodb are first required, or their calls are not traced; with
 * tracing off nothing of the SDK is loaded.
 */
export function startTracing(defaultServiceName: string): boolean {
  if (sdk || !tracingEnabled()) return sdk !== undefined;
  // Loaded here, not imported: a process without tracing never loads the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node') as typeof import('@opentelemetry/auto-instrumentations-node');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // Only what a request touches: HTTP in and out (fetch is undici), Redis, MongoDB; fs, dns, net and the rest stay off.
  process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ||= DEFAULT_INSTRUMENTATIONS;
  const named = Boolean(process.env.OTEL_SERVICE_NAME?.trim()) || /(^|,)\s*service\.name\s*=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  sdk = new NodeSDK({
    // A serviceName here would override OTEL_SERVICE_NAME, so it is only the default.
    serviceName: named ? undefined : defaultServiceName,
    // Traces only: metrics are Prometheus's (/metrics), logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: getNodeAutoInstrumentations({
      '@opentelemetry/instrumentation-http': { ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]) },
      // BullMQ polls Redis all the time: only calls made inside a trace become spans.
      '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
      '@opentelemetry/instrumentation-mongodb': { requireParentSpan: true },
    }),
  });
  sdk.start();
  return true;
}

/** Flushes the spans not yet exported and stops the SDK; a no-op when tracing is off. */
export async function shutdownTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}
