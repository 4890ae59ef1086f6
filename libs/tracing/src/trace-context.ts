import { context, propagation, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** W3C trace context carried in a queued job's payload (both absent when tracing is off). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Attributes of a queued job's spans. */
export interface JobSpanAttributes {
  queue: string;
  jobId: string;
  correlationId: string;
}

const tracer = trace.getTracer('aicg');

/** The active trace's id, or undefined outside a trace (always, when tracing is off). */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** pino's `mixin`: every log line written inside a trace carries its id. */
export function traceLogFields(): { traceId?: string } {
  const traceId = activeTraceId();
  return traceId ? { traceId } : {};
}

/** Names the HTTP server span after the route (`POST /generate-content`) and tags it with the request id. */
export function annotateRequestSpan(requestId: string, method: string, route: string | undefined): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('http.request_id', requestId);
  if (route) span.setAttribute('http.route', route).updateName(`${method} ${route}`);
}

/** Runs `add` inside a producer span and hands it the trace context to put in the job's payload. */
export async function inProducerSpan<T>(job: JobSpanAttributes, add: (carrier: TraceCarrier) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(`${job.queue} publish`, { kind: SpanKind.PRODUCER, attributes: attributesOf(job) }, async (span) => {
    const carrier: TraceCarrier = {};
    propagation.inject(context.active(), carrier);
    try {
      return await add(carrier);
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs a job's handler inside a consumer span, a child of the trace its payload carries (the request that
 * queued it). `isFailure` tells real failures from control flow (a job moved back to the queue).
 */
export async function inConsumerSpan<T>(
  job: JobSpanAttributes,
  carrier: TraceCarrier,
  handler: (span: Span) => Promise<T>,
  isFailure: (error: unknown) => boolean = () => true,
): Promise<T> {
  const parent = propagation.extract(context.active(), { traceparent: carrier.traceparent, tracestate: carrier.tracestate });
  return tracer.startActiveSpan(`${job.queue} process`, { kind: SpanKind.CONSUMER, attributes: attributesOf(job) }, parent, async (span) => {
    try {
      return await handler(span);
    } catch (error) {
      if (isFailure(error)) fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function attributesOf(job: JobSpanAttributes): Record<string, string> {
  return { 'messaging.system': 'bullmq', 'messaging.destination.name': job.queue, 'messaging.message.id': job.jobId, 'aicg.correlation_id': job.correlationId };
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
