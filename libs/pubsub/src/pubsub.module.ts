import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { realtimeConfig, redisConfig } from '@app/config';
import { NotificationDeliveryService } from './notification-delivery.service';
import { NotificationRepository } from './notification.repository';
import { NotificationsService } from './notifications.service';
import { PubSubSubscriber } from './pubsub-subscriber.service';
import { pubSubConnectionProvider } from './pubsub-redis.provider';
import { PubSubService } from './pubsub.service';

const services = [PubSubService, NotificationsService, NotificationDeliveryService, PubSubSubscriber];
const repositories = [NotificationRepository, pubSubConnectionProvider];

/**
 * Events from any process to the sockets of a user on every API instance. The worker uses
 * PubSubService only; the API's gateway starts NotificationDeliveryService, which alone opens the
 * subscriber connection.
 */
@Module({
  imports: [ConfigModule.forFeature(redisConfig), ConfigModule.forFeature(realtimeConfig)],
  providers: [...services, ...repositories],
  exports: [PubSubService, NotificationsService, NotificationDeliveryService],
})
export class PubSubModule {}
