import { Logger } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { Server, Socket } from 'socket.io';
import { AuthService, AuthUser, UserChange } from '@app/auth';
import { bearerToken, DomainError } from '@app/common';
import { MetricsService } from '@app/metrics';
import { ClientEventMap, ClientEventMeta, ClientEventName, ClientSender, ClientSession, ClientSessionsService, parseStreamId } from '@app/pubsub';

export const AUTHENTICATION_ERROR = 'Authentication error';
/** The connect_error of a handshake past MAX_SOCKETS_PER_USER. */
export const tooManySocketsError = (max: number): string => `Too many connections: at most ${max} sockets per user`;
/** setTimeout's limit; a later expiry is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SocketData {
  user: AuthUser;
  expiresAt?: Date;
  /** The token's iat: a token without a session ends when the user's tokensValidAfter passes it. */
  issuedAt?: Date;
  lastEventId?: string;
  session?: ClientSession;
  expiryTimer?: NodeJS.Timeout;
}

type ServerToClientEvents = Record<string, (...args: unknown[]) => void>;
type ClientSocket = Socket<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>;
type ClientServer = Server<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Sockets of signed-in users: the token is checked on connect (as for REST), each socket gets a session
 * that sends it its user's events, after what it missed; it is cut when its token expires. There is no
 * per-user room: each socket has its own replay position, so every event goes to one socket at a time.
 */
@WebSocketGateway()
export class RealtimeGateway implements ClientSender, OnGatewayInit<ClientServer>, OnGatewayConnection<ClientSocket>, OnGatewayDisconnect<ClientSocket> {
  private readonly logger = new Logger(RealtimeGateway.name);
  @WebSocketServer() private readonly server!: ClientServer;

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: ClientSessionsService,
    private readonly metrics: MetricsService,
  ) {}

  /** The one place a client event leaves the server: to one socket, when its session says so (replay order, no duplicates). */
  clientSend<E extends ClientEventName>(event: E, socketId: string, payload: ClientEventMap[E], meta?: ClientEventMeta): void {
    const socket = this.server.sockets.sockets.get(socketId);
    // Recorded events carry { id } as a second argument; job_delta has none (old clients read only the first).
    if (meta) socket?.emit(event, payload, meta);
    else socket?.emit(event, payload);
  }

  afterInit(server: ClientServer): void {
    // A middleware refusal reaches the client as connect_error with this message.
    server.use((socket, next) => {
      this.authenticate(socket as ClientSocket)
        .then(() => this.admit(socket as ClientSocket))
        .then(
          () => next(),
          (error: Error) => next(error),
        );
    });
    this.sessions.start(this);
    this.auth.onUserChanged((change) => void this.disconnectEnded(change));
  }

  handleConnection(socket: ClientSocket): void {
    this.metrics.socketConnected();
    const { user, lastEventId } = socket.data;
    socket.data.session = this.sessions.open(user.id, socket.id, { lastEventId });
    this.scheduleExpiry(socket);
    // A change heard between the handshake's check and now (admit is a Redis round trip) found no socket to cut.
    const valid = this.auth.stillValid({ ...user, issuedAt: socket.data.issuedAt });
    if (valid === false) socket.disconnect(true);
    else if (valid !== true) void this.disconnectUnless(socket, valid);
  }

  handleDisconnect(socket: ClientSocket): void {
    this.metrics.socketDisconnected();
    clearTimeout(socket.data.expiryTimer);
    if (socket.data.session) this.sessions.close(socket.data.session);
    void this.sessions.release(socket.data.user.id, socket.id);
  }

  /** One of the user's MAX_SOCKETS_PER_USER seats, across instances; refused with its own connect_error. */
  private async admit(socket: ClientSocket): Promise<void> {
    if (!(await this.sessions.admit(socket.data.user.id, socket.id))) throw new Error(tooManySocketsError(this.sessions.maxSocketsPerUser));
  }

  private async authenticate(socket: ClientSocket): Promise<void> {
    const token = handshakeToken(socket);
    if (!token) throw new Error(AUTHENTICATION_ERROR);
    try {
      const { expiresAt, issuedAt, ...user } = await this.auth.verifyToken(token);
      socket.data.user = user;
      socket.data.expiresAt = expiresAt;
      socket.data.issuedAt = issuedAt;
      socket.data.lastEventId = parseStreamId(socket.handshake.auth?.lastEventId);
    } catch (error) {
      if (error instanceof DomainError) throw new Error(AUTHENTICATION_ERROR);
      // The database is down: not the client's fault, and it should not log the user out.
      this.logger.warn(`Socket authentication failed: ${(error as Error).message}`);
      throw new Error('Service unavailable');
    }
  }

  /**
   * A user changed (deactivated, logged out, on any instance): this instance's sockets of that user are cut
   * unless the user is still active and the socket's session (token) not ended. One check per change heard
   * and user with a socket here, none per message; after a gap in hearing changes (undefined) every
   * connected user is checked once.
   */
  private async disconnectEnded(change?: UserChange): Promise<void> {
    // Changes are rare, so a scan of this instance's sockets beats a per-user index kept on every connect.
    const byUser = new Map<string, ClientSocket[]>();
    for (const socket of this.server.sockets.sockets.values()) {
      const id = socket.data.user?.id;
      if (!id || (change !== undefined && id !== change.userId)) continue;
      byUser.set(id, [...(byUser.get(id) ?? []), socket]);
    }
    for (const [id, sockets] of byUser) {
      let active: boolean;
      try {
        active = await this.auth.isActive(id);
      } catch (error) {
        // The database is down: keep the sockets (ended sessions are still cut below); the token's expiry ends them.
        this.logger.warn(`Could not check user ${id} after a change: ${(error as Error).message}`);
        active = true;
      }
      for (const socket of sockets) {
        const ended = socket.data.user.sessionId !== undefined && change?.endedSessions.includes(socket.data.user.sessionId);
        if (!active || ended || (await this.auth.isRevoked({ ...socket.data.user, issuedAt: socket.data.issuedAt }))) socket.disconnect(true);
      }
    }
  }

  private async disconnectUnless(socket: ClientSocket, valid: Promise<boolean>): Promise<void> {
    try {
      if (!(await valid)) socket.disconnect(true);
    } catch (error) {
      // The database is down: as in disconnectEnded, the socket stays; ended sessions are still cut when heard.
      this.logger.warn(`Could not re-check a new socket of user ${socket.data.user.id}: ${(error as Error).message}`);
    }
  }

  private scheduleExpiry(socket: ClientSocket): void {
    const { expiresAt } = socket.data;
    if (!expiresAt) return;
    const remainingMs = expiresAt.getTime() - Date.now();
    socket.data.expiryTimer = setTimeout(
      () => (remainingMs > MAX_TIMER_MS ? this.scheduleExpiry(socket) : socket.disconnect(true)),
      Math.min(Math.max(remainingMs, 0), MAX_TIMER_MS),
    );
  }
}

/** `auth.token` (the contract), or a bearer Authorization header (scripts). */
function handshakeToken(socket: Socket): string | undefined {
  const fromAuth: unknown = socket.handshake.auth?.token;
  if (typeof fromAuth === 'string' && fromAuth.trim()) return fromAuth.trim().replace(/^Bearer\s+/i, '');
  return bearerToken(socket.handshake.headers.authorization);
}
