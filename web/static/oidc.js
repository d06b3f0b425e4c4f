// Sign-in with the deployment's OpenID Connect issuer: the authorization code flow with PKCE
// (RFC 7636) of a public client. The ID token is the bearer token the API checks: its
// audience is the console's client id, which is the API's JWT authorizer's audience.

const PENDING = 'customerspace.signin';

/** The reason a sign-in failed, a key of the texts' signin.failed. */
export class SignInError extends Error {
  /**
   * @param {'state' | 'refused' | 'issuer' | 'token'} reason
   * @param {string} detail
   */
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

/**
 * @typedef {{authorization_endpoint: string, token_endpoint: string}} Discovery
 * @typedef {{verifier: string, state: string, nonce: string, next: string}} Pending
 */

/** @param {string} issuer */
async function discover(issuer) {
  let doc;
  try {
    const res = await fetch(issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error('status ' + res.status);
    doc = await res.json();
  } catch (e) {
    throw new SignInError('issuer', 'discovery: ' + String(e));
  }
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched from.
  if (!doc || doc.issuer !== issuer || !doc.authorization_endpoint || !doc.token_endpoint) {
    throw new SignInError('issuer', 'discovery: not the document of ' + issuer);
  }
  return /** @type {Discovery} */ (doc);
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {number} n */
function random(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** @param {string} verifier */
async function challenge(verifier) {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function redirectURI() {
  return location.origin + '/signin';
}

/**
 * begin sends the browser to the issuer, to come back to /signin with a code.
 * @param {{issuer: string, clientId: string}} settings
 * @param {string} next the path to open once signed in
 */
export async function begin(settings, next) {
  const d = await discover(settings.issuer);
  /** @type {Pending} */
  const pending = { verifier: random(32), state: random(16), nonce: random(16), next };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const u = new URL(d.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectURI(),
    scope: 'openid',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challenge(pending.verifier),
    code_challenge_method: 'S256',
  })) u.searchParams.set(k, v);
  location.assign(u.toString());
}

/** @param {URLSearchParams} params */
export function isCallback(params) {
  return params.has('state') && (params.has('code') || params.has('error'));
}

/**
 * finish exchanges the code the issuer sent back for the tokens, checks the ID token's
 * claims (OpenID Connect Core §3.1.3.7) and returns it with the path to open. The pending
 * sign-in is used up whatever the outcome: a callback answers once.
 * @param {{issuer: string, clientId: string}} settings
 * @param {URLSearchParams} params
 * @returns {Promise<{idToken: string, next: string}>}
 */
export async function finish(settings, params) {
  const saved = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  /** @type {Pending | null} */
  let pending = null;
  try { pending = saved ? JSON.parse(saved) : null; } catch { pending = null; }
  if (!pending || params.get('state') !== pending.state) throw new SignInError('state', 'no sign-in with this state');
  if (params.has('error')) throw new SignInError('refused', String(params.get('error')));

  const d = await discover(settings.issuer);
  let data;
  try {
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code') || '',
        redirect_uri: redirectURI(),
        client_id: settings.clientId,
        code_verifier: pending.verifier,
      }),
    });
    data = await res.json().catch(() => null);
    if (!res.ok) throw new SignInError('token', 'token endpoint: ' + ((data && data.error) || res.status));
  } catch (e) {
    throw e instanceof SignInError ? e : new SignInError('issuer', 'token endpoint: ' + String(e));
  }
  const idToken = data && typeof data.id_token === 'string' ? data.id_token : '';
  checkClaims(idToken, settings, pending.nonce);
  return { idToken, next: pending.next };
}

/**
 * The token came from the issuer's token endpoint over TLS, so its signature is left to the
 * API's authorizer (§3.1.3.7, 6); the claims say whether it was issued to this sign-in.
 * @param {string} idToken
 * @param {{issuer: string, clientId: string}} settings
 * @param {string} nonce
 */
function checkClaims(idToken, settings, nonce) {
  let claims;
  try {
    const payload = idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
  } catch {
    throw new SignInError('token', 'no ID token');
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const problem = claims.iss !== settings.issuer ? 'iss'
    : !aud.includes(settings.clientId) ? 'aud'
    : claims.nonce !== nonce ? 'nonce'
    : !(typeof claims.exp === 'number' && claims.exp * 1000 > Date.now()) ? 'exp'
    : '';
  if (problem) throw new SignInError('token', 'ID token: wrong ' + problem);
}
