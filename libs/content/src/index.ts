export * from './content.module';
export * from './content.service';
export * from './content.types';
export * from './dto/content.dto';
