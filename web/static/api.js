// The API, called with the signed-in account's bearer token: on the origin that
// /console/config.json names, written when the console is deployed (empty: this origin).

/**
 * The signed-in account, as GET /me answers.
 * @typedef {{nic: string, email?: string, language: string, goodStanding?: boolean}} Me
 */
/**
 * A service where the account holds a role (GET /me/services).
 * @typedef {{id: string, type: string, contacts: Record<string, string>, myRoles?: string[]}} Service
 */
/** @typedef {{nic: string, status: string, bounced?: boolean}} Party */
/** @typedef {{at: string, by: string, event: string, detail?: string}} HistoryEvent */
/**
 * A contact-change request (GET /me/contact-changes/{id}).
 * @typedef {{id: string, serviceId: string, role: string, from: string, to: string, state: string,
 *   requestedBy: string, createdAt: string, expiresAt: string, parties?: Party[], history?: HistoryEvent[],
 *   batchId?: string}} Change
 */
/** @typedef {{code: string, message?: string}} ItemError */
/**
 * One service of a batch: the requests made for it, or why none was.
 * @typedef {{serviceId: string, created?: Change[], error?: ItemError}} BatchItem
 */
/**
 * A batch: one change over many services (POST and GET /me/contact-change-batches).
 * @typedef {{id: string, requestedBy?: string, createdAt?: string, expiresAt?: string, items?: BatchItem[],
 *   parties?: {nic: string, changes?: string[]}[]}} Batch
 */
/**
 * What a batch answer did to one request that needed the caller; without error, it was
 * answered by that call.
 * @typedef {{changeId: string, serviceId: string, role: string, state: string, error?: ItemError}} BatchAnswer
 */
/**
 * A page of a listing.
 * @template T
 * @typedef {{items?: T[], nextCursor?: string}} Page
 */

const KEY = 'customerspace.token';

/**
 * The console's settings, as /console/config.json holds them.
 * @typedef {{apiUrl: string, issuer: string, clientId: string}} Config
 */

// The settings are read once, when the module loads; a failure is reported by every call.
/** @type {Promise<Config>} */
const settings = fetch('/console/config.json', { headers: { Accept: 'application/json' } })
  .then(async (res) => {
    if (!res.ok) throw new Error('console settings: status ' + res.status);
    const data = await res.json();
    return {
      apiUrl: String(data.apiUrl || '').replace(/\/+$/, ''),
      issuer: String(data.issuer || ''),
      clientId: String(data.clientId || ''),
    };
  });
// A rejection is handled where the settings are awaited, not as an unhandled one here.
settings.catch(() => {});

/** @returns {Promise<Config>} the console's settings */
export function config() { return settings; }

export const session = {
  token() { return sessionStorage.getItem(KEY); },
  /** @param {string} token */
  set(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// call sends a JSON request and returns the decoded answer; an error answer throws an
// ApiError with the API's code and message.
/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  const token = session.token();
  if (token) headers.Authorization = 'Bearer ' + token;
  /** @type {RequestInit} */
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    const { apiUrl } = await settings;
    res = await fetch(apiUrl + path, init);
  } catch (e) {
    throw new ApiError(0, 'network', String(e && /** @type {Error} */ (e).message || e));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || 'status_' + res.status, err.message || res.statusText);
  }
  return data;
}

// query builds a query string of the non-empty values.
/** @param {Record<string, string | null | undefined>} params */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}
