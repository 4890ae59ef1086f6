import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '@app/auth';
import { realtimeConfig } from '@app/config';
import { PubSubModule } from '@app/pubsub';
import { RealtimeGateway } from './realtime.gateway';

const gateways = [RealtimeGateway];

/** The Socket.IO end of libs/pubsub (RealtimeGateway); re-exports PubSubModule for GET /notifications. */
@Module({
  imports: [ConfigModule.forFeature(realtimeConfig), AuthModule, PubSubModule],
  providers: [...gateways],
  exports: [PubSubModule],
})
export class RealtimeModule {}
