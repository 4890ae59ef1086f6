export * from './content.module';
export * from './content.service';
export * from './content.types';
export * from './dto/content.dto';
export * from './dto/content-export.dto';
export * from './export/content-export.service';
export * from './export/content-export.types';
