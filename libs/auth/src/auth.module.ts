import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { adminConfig, authConfig, AuthConfig, mongoConfig, redisConfig } from '@app/config';
import { AdminGuard } from './admin.guard';
import { AdminSessionService } from './admin-session.service';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { PasswordHasher } from './password';
import { SessionRevocations } from './session-revocations.service';
import { SessionStoreRepository } from './session-store.repository';
import { Session, SessionSchema } from './session.schema';
import { SessionRepository } from './session.repository';
import { SessionsService } from './sessions.service';
import { UserCache } from './user-cache.service';
import { JWT_ALGORITHM } from './auth.types';
import { User, UserSchema } from './user.schema';
import { UserRepository } from './user.repository';

const services = [AuthService, AdminSessionService, PasswordHasher, JwtAuthGuard, AdminGuard, UserCache, SessionsService, SessionRevocations];
const repositories = [UserRepository, SessionRepository, SessionStoreRepository];

@Module({
  imports: [
    ConfigModule.forFeature(authConfig),
    ConfigModule.forFeature(redisConfig),
    ConfigModule.forFeature(adminConfig),
    ConfigModule.forFeature(mongoConfig),
    MongooseModule.forFeature([
      { name: User.name, schema: UserSchema },
      { name: Session.name, schema: SessionSchema },
    ]),
    JwtModule.registerAsync({
      imports: [ConfigModule.forFeature(authConfig)],
      inject: [authConfig.KEY],
      useFactory: (config: AuthConfig) => {
        // A KeyObject: given a string, jsonwebtoken first tries to parse it as a public key on every verify.
        const key = createSecretKey(Buffer.from(config.jwtSecret));
        return {
          secretOrKeyProvider: () => key,
          signOptions: { algorithm: JWT_ALGORITHM, expiresIn: config.jwtExpiresIn as never },
          verifyOptions: { algorithms: [JWT_ALGORITHM] },
        };
      },
    }),
  ],
  providers: [...services, ...repositories],
  exports: [AuthService, AdminSessionService, JwtAuthGuard, AdminGuard],
})
export class AuthModule {}
