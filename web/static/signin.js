// The local stack's sign-in page: a developer picks an account of the seed.
import { call, session } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';

// next is where to go once signed in: a path of this site only.
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/signin') ? n : '/services';
}

/**
 * @param {HTMLElement} main
 * @param {import('./i18n.js').Texts} t
 */
export async function signinScreen(main, t) {
  const out = h('div', { id: 'signin-out' });
  main.replaceChildren(h('h1', {}, t.signin.title), h('p', {}, t.signin.intro), out);
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
