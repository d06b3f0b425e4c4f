// Profile: the address and language the emails use, as GET /me says.
import { h } from './dom.js';

/**
 * @param {HTMLElement} main
 * @param {import('./i18n.js').Texts} t
 * @param {import('./api.js').Me} me
 */
export function profileScreen(main, t, me) {
  const row = (/** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ id) => [h('dt', {}, label), h('dd', { id }, value)];
  main.replaceChildren(
    h('h1', {}, t.profile.title),
    h('dl', { class: 'fields' },
      row(t.profile.nic, me.nic, 'profile-nic'),
      row(t.profile.email, me.email || t.profile.noEmail, 'profile-email'),
      row(t.profile.language, t.language[me.language] || me.language, 'profile-language'),
      row(t.profile.goodStanding, me.goodStanding ? t.profile.yes : t.profile.no, 'profile-standing')),
  );
}
