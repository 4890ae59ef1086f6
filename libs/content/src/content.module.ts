import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { mongoConfig, redisConfig } from '@app/config';
import { Content, ContentSchema } from './content.schema';
import { ContentRepository } from './content.repository';
import { ContentService } from './content.service';
import { ContentExportService } from './export/content-export.service';
import { ExportSeats } from './export/export-seats';

const services = [ContentService, ContentExportService];
const repositories = [ContentRepository, ExportSeats];

/** The library and its exports. Needs the global RedisModule (export seats). */
@Module({
  imports: [ConfigModule.forFeature(mongoConfig), ConfigModule.forFeature(redisConfig), MongooseModule.forFeature([{ name: Content.name, schema: ContentSchema }])],
  providers: [...services, ...repositories],
  exports: [ContentService, ContentExportService],
})
export class ContentModule {}
