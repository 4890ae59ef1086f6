import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

export const USER_STATUSES = ['active', 'inactive'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

@Schema({ collection: 'users', timestamps: true, versionKey: false })
export class User {
  @Prop({ required: true, trim: true, maxlength: 100 })
  name!: string;

  /** Stored lower-cased, so the unique index makes emails unique case-insensitively. */
  @Prop({ required: true, unique: true, lowercase: true, trim: true })
  email!: string;

  @Prop({ required: true, select: false })
  passwordHash!: string;

  @Prop({ type: String, required: true, enum: USER_STATUSES, default: 'active' })
  status!: UserStatus;

  /** Follows ADMIN_EMAILS, set at register and at each login; never written from a request body. */
  @Prop({ type: String, required: true, enum: USER_ROLES, default: 'user' })
  role!: UserRole;

  /** Set when the account's deletion began: the account is inactive and only DELETE /auth/me (or the sweep) may finish it. */
  // Sparse: only accounts being deleted are in it, so the sweep's query reads those alone.
  @Prop({ type: Date, index: { sparse: true } })
  deletingAt?: Date;

  createdAt!: Date;
  updatedAt!: Date;
}

export const UserSchema = SchemaFactory.createForClass(User);
