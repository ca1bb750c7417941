/**
 * Authentication of case systems, configured per client: HTTP Basic (only a
 * SHA-256 of the password is configured), WS-Security UsernameToken with
 * PasswordDigest (timestamp window, nonce replay protection in Redis) and
 * mutual TLS (the verified client certificate's fingerprint). A client whose
 * configuration names several mechanisms must pass all of them. Basic and the
 * certificate are checked before the request's body is read (`beforeBody`).
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { serve, type ServerType } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { DokuboxError } from '../core/errors.js';
import type { ClientIdentity } from '../service/types.js';
import { attributeOf, children, textOf, type XmlElement } from './xml.js';

export const caseSystemClientSchema = z.strictObject({
  id: z.string().min(1),
  authority: z.string().min(1),
  basic: z.strictObject({ username: z.string().min(1), passwordSha256: z.string().regex(/^[0-9a-fA-F]{64}$/) }).optional(),
  wsse: z.strictObject({ username: z.string().min(1), password: z.string().min(8) }).optional(),
  /** SHA-256 fingerprint of the client certificate, hex with or without colons. */
  tlsClientCertFingerprint: z.string().regex(/^([0-9a-fA-F]{2}:?){32}$/).optional(),
}).refine((c) => c.basic !== undefined || c.wsse !== undefined || c.tlsClientCertFingerprint !== undefined, { message: 'configure at least one of basic, wsse, tlsClientCertFingerprint' });
export type CaseSystemClientConfig = z.infer<typeof caseSystemClientSchema>;

/** What a request presents for authentication. */
export interface AuthRequest {
  headers: Headers;
  /** SHA-256 fingerprint of a client certificate the TLS layer verified. */
  tlsClientCertFingerprint?: string | undefined;
  /** The wsse:Security header element, if the SOAP envelope has one. */
  security?: XmlElement | undefined;
}

/** What a request presents before its body is read: the HTTP headers (Basic) and the TLS client certificate. */
export type TransportCredentials = Omit<AuthRequest, 'security'>;

/** The outcome of the checks that need no body. */
export interface PendingAuthentication {
  /**
   * Whether the client can only be confirmed by a WS-Security UsernameToken in the SOAP header
   * (the body must be read and parsed for it). When false, `complete` needs nothing from the body.
   */
  readonly needsUsernameToken: boolean;
  /** Finishes authentication with the envelope's `Security` header element, if there is one. */
  complete(security?: XmlElement): Promise<ClientIdentity>;
}

/**
 * Authenticates a case-system request. `beforeBody` runs what can be checked
 * before the body is read (HTTP Basic, the client certificate) and throws
 * UNAUTHENTICATED when the request cannot succeed whatever its body holds;
 * only a UsernameToken needs the parsed SOAP header. Calling the function
 * itself does both steps at once.
 */
export interface CaseSystemAuthenticator {
  (request: AuthRequest): Promise<ClientIdentity>;
  beforeBody(request: TransportCredentials): PendingAuthentication;
}

/** Remembers nonces; `true` when the nonce is new. */
export interface NonceStore {
  remember(key: string, ttlMs: number): Promise<boolean>;
}

export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.set(`${this.prefix}nonce:${key}`, '1', 'PX', ttlMs, 'NX');
    return result === 'OK';
  }
}

const PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

export function normaliseFingerprint(value: string): string {
  return value.replace(/:/g, '').toUpperCase();
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Base64(SHA-1(nonce + created + password)), the UsernameToken profile's PasswordDigest. */
export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

function unauthenticated(mechanism: string): DokuboxError {
  // One message for every failure: a caller learns nothing about which part was wrong.
  return new DokuboxError('UNAUTHENTICATED', 'Authentication failed: check the configured credentials of this case system.', { context: { mechanism } });
}

function parseBasic(headers: Headers): { username: string; password: string } | undefined {
  const header = headers.get('authorization');
  if (header === null || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

interface UsernameToken {
  username: string;
  password: string;
  type: string | undefined;
  nonce: string;
  created: string;
}

function parseUsernameToken(security: XmlElement | undefined): UsernameToken | undefined {
  const token = security === undefined ? undefined : children(security, 'UsernameToken')[0];
  if (token === undefined) return undefined;
  const text = (name: string): string => {
    const el = children(token, name)[0];
    return el === undefined ? '' : textOf(el).trim();
  };
  const password = children(token, 'Password')[0];
  return {
    username: text('Username'),
    password: text('Password'),
    type: password === undefined ? undefined : attributeOf(password, 'Type'),
    nonce: text('Nonce'),
    created: text('Created'),
  };
}

export interface AuthenticatorOptions {
  clients: readonly CaseSystemClientConfig[];
  nonces: NonceStore;
  clock: Clock;
  /** How far a UsernameToken's Created may be from now (both directions). Default 5 minutes. */
  timestampWindowMs?: number;
}

export function createCaseSystemAuthenticator(options: AuthenticatorOptions): CaseSystemAuthenticator {
  const clients = options.clients.map((c) => caseSystemClientSchema.parse(c));
  const window = options.timestampWindowMs ?? 5 * 60_000;

  async function checkWsse(client: CaseSystemClientConfig, token: UsernameToken | undefined): Promise<void> {
    const expected = client.wsse;
    if (expected === undefined) return;
    if (token === undefined || !sameSecret(token.username, expected.username)) throw unauthenticated('wsse');
    if (token.type !== PASSWORD_DIGEST || token.nonce === '' || token.created === '') throw unauthenticated('wsse');
    const created = Date.parse(token.created);
    if (!Number.isFinite(created) || Math.abs(options.clock.now() - created) > window) throw unauthenticated('wsse-timestamp');
    if (!sameSecret(passwordDigest(token.nonce, token.created, expected.password), token.password)) throw unauthenticated('wsse');
    // Only a correct digest consumes the nonce; a replay inside the window fails here.
    if (!(await options.nonces.remember(`${client.id}:${token.nonce}`, 2 * window))) throw unauthenticated('wsse-replay');
  }

  const identity = (client: CaseSystemClientConfig): ClientIdentity => ({ id: client.id, role: 'case-system', authority: client.authority });
  /** Every configured transport mechanism of the client must pass: Basic (right user and password) and the certificate. */
  function checkTransport(client: CaseSystemClientConfig, basic: { username: string; password: string } | undefined, fingerprint: string | undefined): void {
    if (client.basic !== undefined) {
      const digest = basic === undefined ? '' : hash('sha256', basic.password, 'hex');
      if (basic === undefined || basic.username !== client.basic.username || !sameSecret(digest, client.basic.passwordSha256.toLowerCase())) throw unauthenticated('basic');
    }
    if (client.tlsClientCertFingerprint !== undefined && fingerprint !== normaliseFingerprint(client.tlsClientCertFingerprint)) throw unauthenticated('tls');
  }
  // Only these clients can be known from a UsernameToken alone; without any, a request needs Basic or a certificate.
  const tokenOnly = clients.some((c) => c.wsse !== undefined && c.basic === undefined && c.tlsClientCertFingerprint === undefined);

  function beforeBody(request: TransportCredentials): PendingAuthentication {
    const basic = parseBasic(request.headers);
    const fingerprint = request.tlsClientCertFingerprint === undefined ? undefined : normaliseFingerprint(request.tlsClientCertFingerprint);
    // The client is found by what the transport presents: the Basic user name, then the certificate.
    const known =
      (basic && clients.find((c) => c.basic?.username === basic.username)) ||
      (fingerprint && clients.find((c) => c.tlsClientCertFingerprint !== undefined && normaliseFingerprint(c.tlsClientCertFingerprint) === fingerprint)) ||
      undefined;
    if (known !== undefined) {
      checkTransport(known, basic, fingerprint);
      if (known.wsse === undefined) return { needsUsernameToken: false, complete: async () => identity(known) };
      return {
        needsUsernameToken: true,
        complete: async (security) => {
          await checkWsse(known, parseUsernameToken(security));
          return identity(known);
        },
      };
    }
    if (!tokenOnly) throw unauthenticated('none');
    // Nobody is known yet: the client must be named by the UsernameToken in the SOAP header.
    return {
      needsUsernameToken: true,
      complete: async (security) => {
        const token = parseUsernameToken(security);
        const client = token && clients.find((c) => c.wsse?.username === token.username);
        if (client === undefined) throw unauthenticated('none');
        checkTransport(client, basic, fingerprint);
        await checkWsse(client, token);
        return identity(client);
      },
    };
  }

  const authenticate = async (request: AuthRequest): Promise<ClientIdentity> => beforeBody(request).complete(request.security);
  return Object.assign(authenticate, { beforeBody });
}

/**
 * The fingerprint of the client certificate of a Node request, only when the
 * TLS layer verified it against the configured CA.
 */
export function verifiedClientFingerprint(incoming: { socket?: unknown } | undefined): string | undefined {
  const socket = incoming?.socket as TLSSocket | undefined;
  if (socket === undefined || typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return undefined;
  const cert = socket.getPeerCertificate();
  return cert.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : undefined;
}

export interface MutualTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA(s) that issue case-system client certificates. */
  ca: string | Buffer | (string | Buffer)[];
}

export function mutualTlsServerOptions(options: MutualTlsOptions): HttpsServerOptions {
  return { key: options.key, cert: options.cert, ca: options.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/**
 * Serves a Hono app over HTTPS that only completes handshakes with a client
 * certificate issued by `ca`. The case-system app reads the verified
 * certificate's fingerprint from `c.env.incoming` (see verifiedClientFingerprint).
 */
export function serveMutualTls(options: MutualTlsOptions & { fetch: Parameters<typeof serve>[0]['fetch']; port: number; hostname?: string }): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve(
      {
        fetch: options.fetch,
        port: options.port,
        hostname: options.hostname ?? '0.0.0.0',
        createServer: createHttpsServer,
        serverOptions: mutualTlsServerOptions(options),
      },
      (info) => resolve({ server, port: info.port }),
    );
  });
}
