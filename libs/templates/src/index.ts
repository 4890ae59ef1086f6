export * from './built-in-templates';
export * from './dto/template.dto';
export * from './template.types';
export * from './templates.module';
export * from './templates.service';
