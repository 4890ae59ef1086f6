import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** User agents are capped: the header is the client's to fill. */
export const USER_AGENT_MAX_LENGTH = 256;

/**
 * A signed-in device, for listing and audit. Whether it is live (its refresh token) lives in Redis
 * (SessionStoreRepository): FerretDB cannot make a rotation exclusive. No secondary index: FerretDB v1
 * serves only `_id` lookups from one, so sessions are found by id from the user's set in Redis.
 */
@Schema({ collection: 'sessions', versionKey: false })
export class Session {
  /** The session id (`sid` of its access tokens): 16 random bytes, base64url. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true })
  userId!: string;

  @Prop({ type: String, maxlength: USER_AGENT_MAX_LENGTH })
  userAgent?: string;

  @Prop({ type: String, maxlength: 64 })
  ip?: string;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, required: true })
  lastUsedAt!: Date;

  /** When the refresh token stops working unless used (each refresh moves it). */
  @Prop({ type: Date, required: true })
  expiresAt!: Date;

  @Prop({ type: Date })
  endedAt?: Date;
}

export const SessionSchema = SchemaFactory.createForClass(Session);
