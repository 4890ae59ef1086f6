import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import mongoose from 'mongoose';
import { mongoConfig, MongoConfig } from '@app/config';

// Operator objects in user input ({"$ne": null}) are wrapped in $eq instead of reaching a query.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', true);

/** The MongoDB connection: no command buffering and a short server selection, so a dead database fails fast. */
@Module({
  imports: [
    MongooseModule.forRootAsync({
      imports: [ConfigModule.forFeature(mongoConfig)],
      inject: [mongoConfig.KEY],
      useFactory: (config: MongoConfig) => ({
        uri: config.uri,
        bufferCommands: false,
        serverSelectionTimeoutMS: config.serverSelectionTimeoutMs,
        // A burst of new pool connections can take longer than a server selection; failing fast is selection's job.
        connectTimeoutMS: 10_000,
        maxPoolSize: 20,
        socketTimeoutMS: 30_000,
        retryAttempts: 30,
        retryDelay: 1000,
        autoIndex: true,
      }),
    }),
  ],
})
export class DatabaseModule {}
