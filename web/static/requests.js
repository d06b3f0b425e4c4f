// Your requests: the contact-change requests the account takes part in, and the answers
// it may give to them.
import { call, query } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';

/** @typedef {import('./i18n.js').Texts} Texts */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./api.js').Change} Change */

const STATES = ['pending', 'applying', 'done', 'refused', 'expired', 'cancelled', 'failed'];

/**
 * @param {HTMLElement} main
 * @param {Texts} t
 * @param {Me} me
 * @param {string} lang
 */
export async function requestsScreen(main, t, me, lang) {
  const params = new URLSearchParams(location.search);
  const id = params.get('id');
  if (id) return single(main, t, me, lang, id, params.get('token') || '');
  const state = params.get('state') || '';
  const cursor = params.get('cursor') || '';
  const select = h('select', { id: 'state' },
    h('option', { value: '' }, t.requests.any),
    STATES.map((s) => h('option', { value: s, selected: s === state }, t.state[s])));
  select.addEventListener('change', () => location.assign('/requests' + query({ state: select.value })));
  const out = h('div', { id: 'requests-out' });
  main.replaceChildren(h('h1', {}, t.requests.title),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'state' }, t.requests.state), select)),
    out);
  /** @type {import('./api.js').Page<Change>} */
  let page;
  try {
    page = await call('GET', '/me/contact-changes' + query({ state, cursor }));
  } catch (e) {
    out.replaceChildren(message(errorText(t, e), true));
    return;
  }
  const items = page.items || [];
  out.replaceChildren(items.length ? h('div', { class: 'cards' }, items.map((c) => card(t, me, lang, c, ''))) : h('p', {}, t.requests.none));
  const paging = h('nav', { class: 'paging', 'aria-label': t.requests.title });
  if (cursor) paging.append(h('a', { href: '/requests' + query({ state }) }, t.requests.first));
  if (page.nextCursor) paging.append(h('a', { href: '/requests' + query({ state, cursor: page.nextCursor }), id: 'next-page' }, t.requests.next));
  if (paging.childElementCount) out.append(paging);
}

/**
 * @param {HTMLElement} main
 * @param {Texts} t
 * @param {Me} me
 * @param {string} lang
 * @param {string} id
 * @param {string} token
 */
async function single(main, t, me, lang, id, token) {
  // The token leaves the address bar (and the history) once it is in the form.
  if (token) history.replaceState(null, '', '/requests' + query({ id }));
  const out = h('div', { id: 'requests-out' });
  main.replaceChildren(h('h1', {}, t.requests.one), h('p', {}, h('a', { href: '/requests' }, t.requests.all)), out);
  try {
    /** @type {Change} */
    const c = await call('GET', '/me/contact-changes/' + encodeURIComponent(id));
    out.replaceChildren(card(t, me, lang, c, token));
    const mine = (c.parties || []).find((p) => p.nic === me.nic);
    if (token && c.state === 'pending' && !(mine && mine.status === 'waiting')) out.prepend(message(t.requests.notYours(me.nic), true));
  } catch (e) {
    out.replaceChildren(message(errorText(t, e), true));
    if (token) out.append(message(t.requests.notYours(me.nic), true));
  }
}

/**
 * @param {string} lang
 * @param {string} at
 */
function when(lang, at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at || '';
  return d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
}

/**
 * @param {Texts} t
 * @param {Me} me
 * @param {import('./api.js').Party} p
 */
function partyText(t, me, p) {
  if (p.status === 'waiting') return p.nic === me.nic ? t.requests.waitingYou : t.requests.waitingFor(p.nic);
  return `${p.nic}: ${t.party[p.status] || p.status}`;
}

// settle follows a request the workflow is applying: after the last acceptance it applies
// the change asynchronously, so the answer's card would say "applying" until a reload. It
// polls, bounded (about 10 s), redrawing the card when the state changes, and stops once the
// request has left "applying", the card has left the page, or the tries run out (a reload
// then shows the outcome). A failed poll stops it too: the card still holds the answer's
// outcome, and a later error there would read as if the answer had failed.
/**
 * @param {Change} c
 * @param {HTMLElement} el the card drawn for c
 * @param {(c: Change) => HTMLElement} draw
 */
async function settle(c, el, draw) {
  for (let tries = 20; c.state === 'applying' && tries > 0; tries--) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (!el.isConnected) return;
    /** @type {Change} */
    let fresh;
    try {
      fresh = await call('GET', '/me/contact-changes/' + encodeURIComponent(c.id));
    } catch {
      return;
    }
    if (!el.isConnected) return;
    if (fresh.state !== c.state) {
      const next = draw(fresh);
      // Focus stays in the card if it was there, and is not taken if it was elsewhere.
      const focused = el.contains(document.activeElement);
      el.replaceWith(next);
      if (focused) /** @type {HTMLElement} */ (next.querySelector('h2')).focus();
      el = next;
    }
    c = fresh;
  }
}

// card draws one request; it draws itself again after each answer.
/**
 * @param {Texts} t
 * @param {Me} me
 * @param {string} lang
 * @param {Change} c
 * @param {string} token
 * @param {Node} [note]
 * @returns {HTMLElement}
 */
function card(t, me, lang, c, token, note) {
  const el = h('article', { class: 'card', 'data-id': c.id, 'data-state': c.state, 'aria-labelledby': 'h-' + c.id });
  const role = t.role[c.role] || c.role;
  /**
   * @param {string} label
   * @param {string} value
   * @param {string} [cls]
   */
  const field = (label, value, cls) => [h('dt', {}, label), h('dd', { class: cls }, value)];
  const parties = c.parties || [];
  const pending = c.state === 'pending';
  const mine = parties.find((p) => p.nic === me.nic);
  const canAnswer = pending && mine && mine.status === 'waiting';
  const canResend = pending && (mine || c.requestedBy === me.nic) && parties.some((p) => p.status === 'waiting');
  const canCancel = pending && c.requestedBy === me.nic;

  const out = h('div', { class: 'outcome', 'aria-live': 'polite' }, note || null);
  /**
   * @param {string} what
   * @param {object} [body]
   */
  const act = async (what, body) => {
    for (const b of el.querySelectorAll('button')) b.disabled = true;
    try {
      await call('POST', `/me/contact-changes/${encodeURIComponent(c.id)}/${what}`, body);
      /** @type {Change} */
      const fresh = await call('GET', '/me/contact-changes/' + encodeURIComponent(c.id));
      const draw = (/** @type {Change} */ f) => card(t, me, lang, f, '', message(t.requests.done[what], false));
      const next = draw(fresh);
      el.replaceWith(next);
      /** @type {HTMLElement} */ (next.querySelector('h2')).focus();
      settle(fresh, next, draw);
    } catch (e) {
      for (const b of el.querySelectorAll('button')) b.disabled = false;
      out.replaceChildren(message(errorText(t, e), true));
    }
  };

  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  /** @type {HTMLElement | null} */
  let answer = null;
  if (canAnswer) {
    const input = h('input', { id: 'token-' + c.id, class: 'token', type: 'text', value: token, autocomplete: 'off', spellcheck: 'false' });
    const answerWith = (/** @type {string} */ what) => () => {
      const tok = input.value.trim();
      if (!tok) {
        out.replaceChildren(message(t.requests.missingToken, true));
        input.focus();
        return;
      }
      act(what, { token: tok });
    };
    answer = h('div', { class: 'answer' },
      h('div', { class: 'field' }, h('label', { for: 'token-' + c.id }, t.requests.token), input),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'accept', on: { click: answerWith('accept') } }, t.requests.accept),
        h('button', { type: 'button', class: 'refuse', on: { click: answerWith('refuse') } }, t.requests.refuse)));
  }
  if (canResend) buttons.push(h('button', { type: 'button', class: 'resend secondary', on: { click: () => act('resend') } }, t.requests.resend));
  if (canCancel) buttons.push(h('button', { type: 'button', class: 'cancel secondary', on: { click: () => act('cancel') } }, t.requests.cancel));

  el.append(
    h('h2', { id: 'h-' + c.id, tabindex: '-1' }, t.requests.heading(role, c.serviceId)),
    h('dl', { class: 'fields' },
      field(t.requests.service, c.serviceId),
      field(t.requests.role, role),
      field(t.requests.from, c.from, 'from'),
      field(t.requests.to, c.to, 'to'),
      field(t.requests.state, t.state[c.state] || c.state, 'state state-' + c.state),
      field(t.requests.requestedBy, c.requestedBy),
      field(t.requests.createdAt, when(lang, c.createdAt)),
      field(t.requests.expiresAt, when(lang, c.expiresAt))),
    h('h3', {}, t.requests.parties),
    h('ul', { class: 'parties' }, parties.map((p) => h('li', { 'data-nic': p.nic, 'data-status': p.status },
      partyText(t, me, p), p.bounced ? ` (${t.requests.bounced})` : null))),
    h('h3', {}, t.requests.history),
    h('ol', { class: 'history' }, (c.history || []).map((e) => h('li', {},
      h('time', { datetime: e.at }, when(lang, e.at)), ' — ', e.by, ': ', t.event[e.event] || e.event,
      e.detail ? ` (${e.detail})` : null))),
    // append would write a null out as the text "null".
    ...(answer ? [answer] : []),
    ...(buttons.length ? [h('div', { class: 'buttons' }, buttons)] : []),
    out);
  return el;
}
