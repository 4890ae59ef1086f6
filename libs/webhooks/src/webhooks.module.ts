import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { redisConfig, webhooksConfig } from '@app/config';
import { PubSubModule } from '@app/pubsub';
import { WebhookClient } from './webhook.client';
import { WebhookDelivery, WebhookDeliverySchema } from './webhook-delivery.schema';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookEventsService } from './webhook-events.service';
import { WebhookLimitsRepository } from './webhook-limits.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhookQueue } from './webhook.queue';
import { WebhookRepository } from './webhook.repository';
import { Webhook, WebhookSchema } from './webhook.schema';
import { WebhookStateRepository } from './webhook-state.repository';
import { WEBHOOKS_QUEUE } from './webhook.types';
import { WebhooksService } from './webhooks.service';

const services = [WebhooksService, WebhookEventsService, WebhookSubscriptions];
const repositories = [WebhookRepository, WebhookDeliveryRepository, WebhookStateRepository, WebhookLimitsRepository, WebhookQueue, WebhookClient];
const models = MongooseModule.forFeature([
  { name: Webhook.name, schema: WebhookSchema },
  { name: WebhookDelivery.name, schema: WebhookDeliverySchema },
]);

/** Webhooks for both apps: the API's routes (WebhooksService) and the one way to announce an event (WebhookEventsService). Needs the global RedisModule. */
@Module({
  imports: [ConfigModule.forFeature(webhooksConfig), ConfigModule.forFeature(redisConfig), models],
  providers: [...services, ...repositories],
  exports: [...services, ...repositories, ConfigModule],
})
export class WebhooksModule {}

/**
 * The worker side: fan-out and delivery of the webhooks queue. Its BullMQ queue uses the worker's BullMQ
 * root (GenerationModule's, which waits for Redis and reconnects by itself), so import it beside GenerationModule.
 */
@Module({
  imports: [WebhooksModule, PubSubModule, BullModule.registerQueue({ name: WEBHOOKS_QUEUE })],
  providers: [WebhookDeliveryService],
  exports: [WebhookDeliveryService, BullModule],
})
export class WebhookDeliveryModule {}
