export * from './auth.module';
export * from './auth.service';
export * from './auth.types';
export * from './dto/auth.dto';
export * from './jwt-auth.guard';
