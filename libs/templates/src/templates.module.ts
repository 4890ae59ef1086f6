import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { Template, TemplateSchema } from './template.schema';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

const services = [TemplatesService];
const repositories = [TemplatesRepository];

@Module({
  imports: [MongooseModule.forFeature([{ name: Template.name, schema: TemplateSchema }])],
  providers: [...services, ...repositories],
  exports: [TemplatesService],
})
export class TemplatesModule {}
