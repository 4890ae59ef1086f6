import { Inject, Injectable } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { authConfig, AuthConfig } from '@app/config';

/** bcrypt reads only the first 72 bytes of a password; longer ones are refused at validation. */
export const PASSWORD_MAX_BYTES = 72;
export const PASSWORD_MIN_LENGTH = 8;

@Injectable()
export class PasswordHasher {
  /** Compared against when the email is unknown, so a login takes as long whether or not the account exists. */
  private readonly dummyHash: Promise<string>;

  constructor(@Inject(authConfig.KEY) private readonly config: AuthConfig) {
    this.dummyHash = bcrypt.hash('dummy-password-for-timing', config.bcryptRounds);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.config.bcryptRounds);
  }

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(password, hash ?? (await this.dummyHash));
    return matches && hash !== undefined;
  }
}
