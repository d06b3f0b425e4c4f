// The sign-in screen: with the deployment's OpenID Connect issuer when the settings name one,
// else the local stack's developer page, where one picks an account of the seed.
import { call, config, session } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';
import { begin, finish, isCallback, SignInError } from './oidc.js';

/** @typedef {import('./i18n.js').Texts} Texts */

// next is where to go once signed in: a path of this site only.
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/signin') ? n : '/services';
}

/**
 * @param {HTMLElement} main
 * @param {Texts} t
 */
export async function signinScreen(main, t) {
  const out = h('div', { id: 'signin-out' });
  main.replaceChildren(h('h1', {}, t.signin.title), out);
  let settings;
  try {
    settings = await config();
  } catch (e) {
    out.replaceChildren(message(errorText(t, e), true));
    return;
  }
  if (settings.issuer) return withIssuer(out, t, settings);
  out.before(h('p', {}, t.signin.intro));
  return developer(out, t);
}

/**
 * @param {HTMLElement} out
 * @param {Texts} t
 * @param {{issuer: string, clientId: string}} settings
 */
async function withIssuer(out, t, settings) {
  const params = new URLSearchParams(location.search);
  const button = h('button', { type: 'button', id: 'signin-issuer' }, t.signin.withIssuer);
  const start = async () => {
    button.disabled = true;
    try {
      await begin(settings, next());
    } catch (e) {
      button.disabled = false;
      out.replaceChildren(failure(t, e), button);
    }
  };
  button.addEventListener('click', start);
  if (!isCallback(params)) {
    out.replaceChildren(h('p', {}, t.signin.issuerIntro(new URL(settings.issuer).host)), button);
    return;
  }
  // The code and state leave the address bar (and the history) before anything else.
  history.replaceState(null, '', '/signin');
  out.replaceChildren(h('p', { role: 'status' }, t.signin.finishing));
  try {
    const { idToken, next: to } = await finish(settings, params);
    session.set(idToken);
    location.replace(to);
  } catch (e) {
    button.textContent = t.signin.again;
    out.replaceChildren(failure(t, e), button);
  }
}

/**
 * @param {Texts} t
 * @param {unknown} e
 */
function failure(t, e) {
  const reason = e instanceof SignInError ? e.reason : 'issuer';
  return message(t.signin.failed[reason], true);
}

/**
 * @param {HTMLElement} out
 * @param {Texts} t
 */
async function developer(out, t) {
  /** @type {{nic: string, language: string}[] | null} */
  let accounts;
  try {
    accounts = await call('GET', '/_local/accounts');
  } catch (e) {
    out.replaceChildren(message(errorText(t, e), true));
    return;
  }
  if (!accounts || accounts.length === 0) {
    out.replaceChildren(h('p', {}, t.signin.none));
    return;
  }
  /**
   * @param {string} nic
   * @param {HTMLButtonElement} button
   */
  const pick = async (nic, button) => {
    button.disabled = true;
    try {
      const { token } = await call('POST', '/_local/token', { nic });
      session.set(token);
      location.assign(next());
    } catch (e) {
      button.disabled = false;
      out.append(message(errorText(t, e), true));
    }
  };
  out.replaceChildren(h('ul', { class: 'accounts' }, accounts.map((a) => {
    const b = h('button', { type: 'button', 'data-nic': a.nic }, t.signin.as(a.nic), ' ', h('span', { class: 'lang' }, '(' + a.language + ')'));
    b.addEventListener('click', () => pick(a.nic, b));
    return h('li', {}, b);
  })));
}
