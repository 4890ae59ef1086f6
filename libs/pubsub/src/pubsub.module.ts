import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { realtimeConfig, redisConfig } from '@app/config';
import { ClientSessionsService } from './client-sessions.service';
import { NotificationRepository } from './notification.repository';
import { NotificationsService } from './notifications.service';
import { PubSubSubscriber } from './pubsub-subscriber.service';
import { pubSubConnectionProvider } from './pubsub-redis.provider';
import { PubSubService } from './pubsub.service';

const services = [PubSubService, NotificationsService, ClientSessionsService, PubSubSubscriber];
const repositories = [NotificationRepository, pubSubConnectionProvider];

/**
 * Client events from any process to the sockets of a user on every API instance. The worker uses
 * PubSubService only; the API's gateway starts ClientSessionsService, which alone opens the
 * subscriber connection.
 */
@Module({
  imports: [ConfigModule.forFeature(redisConfig), ConfigModule.forFeature(realtimeConfig)],
  providers: [...services, ...repositories],
  exports: [PubSubService, NotificationsService, ClientSessionsService],
})
export class PubSubModule {}
