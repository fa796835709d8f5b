// Login with OpenID Connect: authorization code flow with PKCE (S256), a public client, the same code path
// against the local runtime's development identity providers and the real e-ID and SITHS providers.
//
// Tokens live in memory only: a reload or a new tab means logging in again. Only the PKCE verifier, the state
// and the nonce are kept in sessionStorage, and only between leaving for the provider and coming back.

import { config, type IdpConfig } from "./config";

export type Realm = "resident" | "staff";
export type EndReason = "logout" | "expired" | "rejected";

export interface Session {
  realm: Realm;
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** The name the provider gave, when it gave one (the id token's `name`). */
  name: string | null;
}

export class AuthError extends Error {
  constructor(
    readonly code: "cancelled" | "state-mismatch" | "provider-error" | "token-failed" | "no-pending-login",
    message: string,
    /** The realm the failed login was for, when known (to offer the right login again). */
    readonly realm: Realm = "resident",
  ) {
    super(message);
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

interface Pending {
  realm: Realm;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  returnTo: string;
  startedAt: number;
}

export const CALLBACK_PATH = "/auth/callback";
const PENDING_KEY = "oidc.pending";
const PENDING_MAX_AGE_MS = 10 * 60 * 1000;
const EXPIRY_MARGIN_MS = 5_000; // end the session a little before the token does

let session: Session | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<(session: Session | null, reason: EndReason | null) => void>();
const discoveries = new Map<string, Promise<Discovery>>();

export function getSession(): Session | null {
  if (session && Date.now() >= session.expiresAt) endSession("expired");
  return session;
}

export function onSessionChange(listener: (session: Session | null, reason: EndReason | null) => void): void {
  listeners.add(listener);
}

function notify(reason: EndReason | null): void {
  for (const listener of listeners) listener(session, reason);
}

async function idpConfig(realm: Realm): Promise<IdpConfig> {
  const idp = (await config()).idps[realm];
  if (!idp) throw new AuthError("provider-error", `No identity provider is configured for ${realm}`);
  return idp;
}

function discover(issuer: string): Promise<Discovery> {
  let found = discoveries.get(issuer);
  if (!found) {
    found = fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { cache: "no-cache" }).then(
      async (response) => {
        if (!response.ok) throw new AuthError("provider-error", `Discovery answered ${response.status}`);
        const document = (await response.json()) as Discovery;
        if (document.issuer !== issuer || !document.authorization_endpoint || !document.token_endpoint) {
          throw new AuthError("provider-error", "The provider's discovery document does not match its issuer");
        }
        return document;
      },
    );
    found.catch(() => discoveries.delete(issuer));
    discoveries.set(issuer, found);
  }
  return found;
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Leave for the identity provider; the browser comes back to CALLBACK_PATH. */
export async function startLogin(realm: Realm, returnTo: string): Promise<void> {
  const idp = await idpConfig(realm);
  const provider = await discover(idp.issuer);
  const pending: Pending = {
    realm,
    state: randomString(),
    nonce: randomString(),
    verifier: randomString(48),
    redirectUri: `${location.origin}${CALLBACK_PATH}`,
    returnTo: returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/",
    startedAt: Date.now(),
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: idp.client_id,
    redirect_uri: pending.redirectUri,
    scope: idp.scope ?? "openid",
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

function takePending(): Pending | null {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY); // one use, whatever happens next
  if (!raw) return null;
  try {
    const pending = JSON.parse(raw) as Pending;
    return Date.now() - pending.startedAt < PENDING_MAX_AGE_MS ? pending : null;
  } catch {
    return null;
  }
}

/** Back from the provider: check the state, exchange the code, keep the token in memory. Returns the path
 *  to go on to. */
export async function finishLogin(params: URLSearchParams): Promise<string> {
  const pending = takePending();
  if (!pending) throw new AuthError("no-pending-login", "No login was started in this tab");
  const realm = pending.realm;
  if (params.get("state") !== pending.state) {
    throw new AuthError("state-mismatch", "The state does not match", realm);
  }
  const error = params.get("error");
  if (error) {
    throw new AuthError(error === "access_denied" ? "cancelled" : "provider-error", error, realm);
  }
  const code = params.get("code");
  if (!code) throw new AuthError("provider-error", "No code came back", realm);
  const idp = await idpConfig(pending.realm);
  const provider = await discover(idp.issuer);
  const response = await fetch(provider.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: pending.redirectUri,
      client_id: idp.client_id,
      code_verifier: pending.verifier,
    }).toString(),
    cache: "no-store",
    credentials: "omit",
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== "string") {
    throw new AuthError("token-failed", String(body.error ?? response.status), realm);
  }
  const claims = typeof body.id_token === "string" ? idTokenClaims(body.id_token) : null;
  if (claims && !idTokenMatches(claims, idp, pending.nonce)) {
    throw new AuthError("token-failed", "The id token is not for this login", realm);
  }
  const lifetime = typeof body.expires_in === "number" ? body.expires_in : 300;
  begin({
    realm: pending.realm,
    accessToken: body.access_token,
    expiresAt: Date.now() + lifetime * 1000 - EXPIRY_MARGIN_MS,
    name: claims && typeof claims.name === "string" ? claims.name : null,
  });
  return pending.returnTo;
}

function idTokenClaims(token: string): Record<string, unknown> | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The id token came straight from the token endpoint over TLS (OIDC Core 3.1.3.7): issuer, audience and
 *  nonce are checked; its signature need not be. */
function idTokenMatches(claims: Record<string, unknown>, idp: IdpConfig, nonce: string): boolean {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return claims.iss === idp.issuer && audiences.includes(idp.client_id) && claims.nonce === nonce;
}

function begin(next: Session): void {
  session = next;
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => endSession("expired"), Math.max(0, next.expiresAt - Date.now()));
  notify(null);
}

/** Forget the token. `expired` and `rejected` (a 401 from the API) tell the user to log in again. */
export function endSession(reason: EndReason): void {
  if (!session) return;
  session = null;
  clearTimeout(expiryTimer);
  notify(reason);
}

// ---- what the API says about whoever is logged in ------------------------------------------------------------
// Residents: /v1/me, staff: /v1/staff/me. Kept in memory with the session like the token: loaded on first use
// (and again after a failure), forgotten when the session changes; the session bar listens for changes.

export interface SessionData<T> {
  /** The loaded value; null before the first load of this session. */
  readonly value: T | null;
  /** The value, loaded on first use; the listeners hear when it arrives. */
  load(): Promise<T>;
  /** Tell the listeners that something shown from the value (e.g. a choice made with it) changed. */
  changed(): void;
  onChange(listener: () => void): void;
}

/** `settle` sees each loaded value (null when the session changes) before the listeners hear of it. */
export function sessionData<T>(request: () => Promise<T>, settle: (value: T | null) => void): SessionData<T> {
  let value: T | null = null;
  let loading: Promise<T> | null = null;
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };
  onSessionChange(() => {
    value = null;
    loading = null;
    settle(null);
  });
  return {
    get value() {
      return value;
    },
    load() {
      loading ??= request().then((found) => {
        value = found;
        settle(found);
        changed();
        return found;
      });
      loading.catch(() => {
        loading = null;
      });
      return loading;
    },
    changed,
    onChange(listener) {
      listeners.add(listener);
    },
  };
}
