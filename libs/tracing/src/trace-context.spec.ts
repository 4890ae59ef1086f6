import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { activeTraceId, inConsumerSpan, inProducerSpan, TraceCarrier, traceLogFields } from './trace-context';
import { tracingEnabled } from './tracing';

const job = { queue: 'content-generation', jobId: 'job-1', correlationId: 'req-1' };

describe('trace context', () => {
  describe('with no SDK registered (tracing off)', () => {
    it('injects nothing, has no trace id and still runs the work', async () => {
      let carrier: TraceCarrier | undefined;
      await inProducerSpan(job, async (given) => {
        carrier = given;
      });
      expect(carrier).toEqual({});
      expect(activeTraceId()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
      expect(await inConsumerSpan(job, {}, async () => 'done')).toBe('done');
    });
  });

  describe('with an SDK', () => {
    const exporter = new InMemorySpanExporter();
    let provider: BasicTracerProvider;

    beforeAll(() => {
      provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
    });
    afterEach(() => exporter.reset());
    afterAll(async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    });

    it('carries the producer span in the payload and makes the consumer span its child, in the same trace', async () => {
      let carrier: TraceCarrier = {};
      let producerTraceId: string | undefined;
      await inProducerSpan(job, async (given) => {
        carrier = given;
        producerTraceId = activeTraceId();
      });
      expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      let logged: { traceId?: string } = {};
      await inConsumerSpan(JSON.parse(JSON.stringify(job)), JSON.parse(JSON.stringify(carrier)) as TraceCarrier, async () => {
        logged = traceLogFields();
      });
      const [producer, consumer] = exporter.getFinishedSpans();
      expect(producer).toMatchObject({ name: 'content-generation publish', kind: SpanKind.PRODUCER });
      expect(consumer).toMatchObject({ name: 'content-generation process', kind: SpanKind.CONSUMER });
      expect(consumer.spanContext().traceId).toBe(producerTraceId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(consumer.attributes).toMatchObject({ 'messaging.message.id': 'job-1', 'aicg.correlation_id': 'req-1' });
      expect(logged).toEqual({ traceId: producerTraceId });
    });

    it('marks a failed job span as an error, but not control flow the caller says is none', async () => {
      await expect(inConsumerSpan(job, {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      await expect(inConsumerSpan(job, {}, () => Promise.reject(new Error('later')), () => false)).rejects.toThrow('later');
      const [failed, deferred] = exporter.getFinishedSpans();
      expect(failed.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'boom' });
      expect(deferred.status.code).toBe(SpanStatusCode.UNSET);
    });

    it('starts a new trace for a payload without one', async () => {
      await inConsumerSpan(job, {}, async () => undefined);
      const [span] = exporter.getFinishedSpans();
      expect(span.parentSpanContext).toBeUndefined();
    });
  });
});

describe(tracingEnabled.name, () => {
  it('is on only with an OTLP endpoint, and off when OTEL_SDK_DISABLED is true', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });
});
