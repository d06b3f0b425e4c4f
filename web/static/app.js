// The Customer Space: routes on location.pathname and draws the screen it names.
import { call, session, query } from './api.js';
import { h } from './dom.js';
import { textsFor, errorText, LANGUAGES } from './i18n.js';
import { signinScreen } from './signin.js';
import { servicesScreen } from './services.js';
import { requestsScreen } from './requests.js';
import { profileScreen } from './profile.js';

/** @typedef {import('./i18n.js').Texts} Texts */
/** @typedef {(main: HTMLElement, t: Texts, me: import('./api.js').Me, lang: string) => unknown} Screen */

/** @type {Record<string, Screen>} */
const screens = {
  '/': servicesScreen,
  '/services': servicesScreen,
  '/requests': requestsScreen,
  '/profile': profileScreen,
};

function browserLanguage() {
  const l = (navigator.language || 'en').slice(0, 2).toLowerCase();
  return LANGUAGES.includes(l) ? l : 'en';
}

/**
 * @param {Texts} t
 * @param {string} lang
 */
function chrome(t, lang) {
  document.documentElement.lang = lang;
  document.title = t.appName;
  /** @type {HTMLElement} */ (document.getElementById('brand')).textContent = t.appName;
  /** @type {HTMLElement} */ (document.getElementById('skip')).textContent = t.skip;
}

/**
 * @param {Texts} t
 * @param {import('./api.js').Me} me
 */
function nav(t, me) {
  const here = location.pathname === '/' ? '/services' : location.pathname;
  const link = (/** @type {string} */ href, /** @type {string} */ label) => h('li', {}, h('a', { href, 'aria-current': here === href ? 'page' : false }, label));
  const signOut = () => {
    session.clear();
    location.assign('/signin');
  };
  /** @type {HTMLElement} */ (document.getElementById('nav')).replaceChildren(
    h('ul', {},
      link('/services', t.nav.services),
      link('/requests', t.nav.requests),
      link('/profile', t.nav.profile)),
    h('p', { class: 'who' }, t.nav.signedInAs(me.nic), ' ',
      h('button', { type: 'button', id: 'signout', on: { click: signOut } }, t.nav.signOut)),
  );
}

function toSignin() {
  location.replace('/signin' + query({ next: location.pathname + location.search }));
}

async function boot() {
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  if (location.pathname === '/signin') {
    const lang = browserLanguage();
    const t = textsFor(lang);
    chrome(t, lang);
    return signinScreen(main, t);
  }
  const screen = screens[location.pathname];
  if (!session.token()) return toSignin();
  let me;
  try {
    me = await call('GET', '/me');
  } catch (e) {
    if (/** @type {{status?: number}} */ (e).status === 401) {
      session.clear();
      return toSignin();
    }
    const t = textsFor(browserLanguage());
    main.replaceChildren(h('p', { class: 'msg error', role: 'alert' }, errorText(t, e)));
    return;
  }
  const lang = LANGUAGES.includes(me.language) ? me.language : 'en';
  const t = textsFor(lang);
  chrome(t, lang);
  nav(t, me);
  await screen(main, t, me, lang);
}

boot();
