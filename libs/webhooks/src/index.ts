export * from './delivery-policy';
export * from './dto/webhook.dto';
export * from './webhook-delivery.service';
export * from './webhook-events.service';
export { deliveryJobId, eventJobId } from './webhook.queue';
export * from './webhook.types';
export * from './webhooks.module';
export * from './webhooks.service';
