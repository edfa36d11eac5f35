import { FAILURE_TYPES } from '../../shared/failure-types';
import { ClassifiedError, parseRetryAfter, snippet, where } from '../errors';
import { callVendor } from '../http';
import {
  APSIS_ENDPOINTS,
  APSIS_PATHS,
  TOKEN_DEFAULT_LIFETIME_SEC,
  TOKEN_MAX_LIFETIME_SEC,
  tokenRefreshMarginMs,
} from './constants';
import { ApsisJwtClaims, ApsisTokenAnswer } from './schemas';

export interface ApsisCredentials {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The account's name, for metrics labels only (absent = `default`). */
  account?: string;
}

interface CachedToken {
  token: string;
  refreshAt: number;
  lifetime: TokenLifetime;
}

/** Where a token's lifetime came from: the JWT's `exp` claim, the deprecated `expires_in`, or the default. */
export type TokenLifetimeSource = 'exp' | 'expires_in' | 'default';

export interface TokenLifetime {
  /** When the token stops working, in ms since the epoch (on this worker's clock). */
  expiresAt: number;
  /** Seconds from the token request to expiresAt. */
  lifetimeSec: number;
  source: TokenLifetimeSource;
}

/**
 * The `exp` claim (Unix seconds) of a JWT-shaped token, or undefined when the token is not a JWT or has no
 * readable `exp`. The signature is not checked: exportflow only schedules its own refresh with it, and APSIS
 * (developer.apsis.com/reference/authentication-1) says to "decode the access_token and retrieve the expiration
 * time from the exp claim".
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = ApsisJwtClaims.safeParse(claims);
  return parsed.success ? parsed.data.exp : undefined;
}

/**
 * A token's lifetime, first found wins: the JWT's `exp` (APSIS's documented way), then `expires_in` (deprecated,
 * kept for older answers), then TOKEN_DEFAULT_LIFETIME_SEC. An `exp` already past on this worker's clock, or more
 * than TOKEN_MAX_LIFETIME_SEC ahead (a skewed clock, a claim in ms), is not believed and the next source is used.
 */
export function tokenLifetime(answer: ApsisTokenAnswer, requestedAt: number): TokenLifetime {
  const exp = jwtExpiry(answer.access_token);
  if (exp !== undefined) {
    const lifetimeSec = (exp * 1000 - requestedAt) / 1000;
    if (lifetimeSec > 0 && lifetimeSec <= TOKEN_MAX_LIFETIME_SEC) {
      return { expiresAt: exp * 1000, lifetimeSec, source: 'exp' };
    }
  }
  if (answer.expires_in !== undefined) {
    return {
      expiresAt: requestedAt + answer.expires_in * 1000,
      lifetimeSec: answer.expires_in,
      source: 'expires_in',
    };
  }
  return {
    expiresAt: requestedAt + TOKEN_DEFAULT_LIFETIME_SEC * 1000,
    lifetimeSec: TOKEN_DEFAULT_LIFETIME_SEC,
    source: 'default',
  };
}

/**
 * OAuth client-credentials tokens, cached per process and per (base URL, client id): reused until shortly
 * before they expire (lifetime from tokenLifetime), fetched by one request at a time however many activities
 * ask (the token endpoint allows about 10 requests a minute), and replaced once when the API answers 401 or 403.
 */
export class ApsisTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A token that is not about to expire. */
  async get(creds: ApsisCredentials): Promise<string> {
    const cached = this.tokens.get(cacheKey(creds));
    if (cached && this.now() < cached.refreshAt) return cached.token;
    return (await this.fetch(creds)).token;
  }

  /** A new token after the API rejected `rejected`; if another caller already replaced it, that one is used. */
  async refresh(creds: ApsisCredentials, rejected: string): Promise<string> {
    const key = cacheKey(creds);
    const cached = this.tokens.get(key);
    if (cached && cached.token !== rejected && this.now() < cached.refreshAt) return cached.token;
    if (cached?.token === rejected) this.tokens.delete(key);
    return (await this.fetch(creds)).token;
  }

  /** How long the cached token lives and where that came from (tests, logs); never the token itself. */
  lifetimeOf(creds: ApsisCredentials): TokenLifetime | undefined {
    return this.tokens.get(cacheKey(creds))?.lifetime;
  }

  /** Forgets every cached token (tests, credential rotation). */
  clear(): void {
    this.tokens.clear();
  }

  private fetch(creds: ApsisCredentials): Promise<CachedToken> {
    const key = cacheKey(creds);
    let pending = this.pending.get(key);
    if (!pending) {
      const startedAt = this.now();
      pending = requestToken(creds)
        .then((answer) => {
          const lifetime = tokenLifetime(answer, startedAt);
          const cached = {
            token: answer.access_token,
            refreshAt: lifetime.expiresAt - tokenRefreshMarginMs(lifetime.lifetimeSec),
            lifetime,
          };
          this.tokens.set(key, cached);
          return cached;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }
}

/** The worker's one cache: every APSIS activity in this process shares it. */
export const apsisTokens = new ApsisTokenCache();

function cacheKey(creds: ApsisCredentials): string {
  return `${creds.baseUrl}\n${creds.clientId}`;
}

/** `POST /oauth/token`; errors say what to fix and never quote the answer of a successful call (it holds the token). */
async function requestToken(creds: ApsisCredentials): Promise<ApsisTokenAnswer> {
  const endpoint = APSIS_ENDPOINTS.token;
  const at = where('apsis', endpoint);
  const answer = await callVendor({
    vendor: 'apsis',
    endpoint,
    method: 'POST',
    url: creds.baseUrl + APSIS_PATHS.token,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: creds.clientId,
      client_secret: creds.clientSecret,
    }),
    accept: [400, 401, 403, 429],
  });
  const details = { vendor: 'apsis' as const, endpoint, status: answer.status };
  if (answer.status === 429) {
    throw new ClassifiedError(
      FAILURE_TYPES.rateLimited,
      `${at} is rate limiting token requests (HTTP 429; APSIS allows about 10 a minute per client)`,
      true,
      { ...details, retryAfterMs: parseRetryAfter(answer.headers['retry-after']) },
    );
  }
  if (answer.status >= 400) {
    // A refused token request is not a success with a token in it, so the vendor's words can be quoted.
    const said = answer.text ? `: ${snippet(answer.text)}` : '';
    throw new ClassifiedError(
      FAILURE_TYPES.auth,
      `${at} refused the client credentials (HTTP ${answer.status}); check APSIS_CLIENT_ID and APSIS_CLIENT_SECRET${said}`,
      false,
      details,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    const kind = /^\s*</.test(answer.text) ? 'an HTML/XML page' : 'something that is not JSON';
    throw new ClassifiedError(FAILURE_TYPES.response, `${at} answered HTTP ${answer.status} with ${kind}`, false, {
      vendor: 'apsis',
      endpoint,
      status: answer.status,
    });
  }
  const parsed = ApsisTokenAnswer.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ClassifiedError(FAILURE_TYPES.response, `${at} answered with an unexpected shape (${fields})`, false, {
      vendor: 'apsis',
      endpoint,
      status: answer.status,
    });
  }
  return parsed.data;
}
