export * from './admin.guard';
export * from './admin-session.service';
export * from './auth.module';
export * from './auth.service';
export * from './auth.types';
export * from './dto/auth.dto';
export * from './jwt-auth.guard';
export { USER_ROLES, type UserRole, USER_STATUSES, type UserStatus } from './user.schema';
export type { UserRecord } from './user.repository';
