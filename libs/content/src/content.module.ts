import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { mongoConfig } from '@app/config';
import { Content, ContentSchema } from './content.schema';
import { ContentRepository } from './content.repository';
import { ContentService } from './content.service';
import { ContentExportService } from './export/content-export.service';

const services = [ContentService, ContentExportService];
const repositories = [ContentRepository];

@Module({
  imports: [ConfigModule.forFeature(mongoConfig), MongooseModule.forFeature([{ name: Content.name, schema: ContentSchema }])],
  providers: [...services, ...repositories],
  exports: [ContentService, ContentExportService],
})
export class ContentModule {}
