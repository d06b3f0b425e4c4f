// Your requests: the contact-change requests the account takes part in, the batches they
// were made in, and the answers the account may give to them.
import { call, query } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';

/** @typedef {import('./i18n.js').Texts} Texts */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./api.js').Change} Change */
/** @typedef {import('./api.js').Batch} Batch */
/** @typedef {import('./api.js').BatchAnswer} BatchAnswer */

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
  const batch = params.get('batch');
  if (batch) return batchScreen(main, t, me, lang, batch, params.get('token') || '');
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
      field(t.requests.expiresAt, when(lang, c.expiresAt)),
      c.batchId ? [h('dt', {}, t.requests.batch), h('dd', { class: 'batch' }, h('a', { href: '/requests' + query({ batch: c.batchId }) }, t.requests.seeBatch))] : null),
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

// changesOf lists the requests of a batch, in the order of its services.
/**
 * @param {Batch} b
 * @returns {Change[]}
 */
function changesOf(b) {
  return (b.items || []).flatMap((it) => it.created || []);
}

// waitingOn lists the requests of a batch that wait for nic's answer.
/**
 * @param {Batch} b
 * @param {string} nic
 */
function waitingOn(b, nic) {
  return changesOf(b).filter((c) => c.state === 'pending' && (c.parties || []).some((p) => p.nic === nic && p.status === 'waiting'));
}

// batchScreen is one batch (/requests?batch=<id>, the token of the email filled in with
// &token=): each service and the states of its requests, whether it waits for the account,
// and the answers it may give: Accept all / Refuse all with its one token, Resend.
/**
 * @param {HTMLElement} main
 * @param {Texts} t
 * @param {Me} me
 * @param {string} lang
 * @param {string} id
 * @param {string} token
 */
async function batchScreen(main, t, me, lang, id, token) {
  // As for a request: the token leaves the address bar once it is in the form.
  if (token) history.replaceState(null, '', '/requests' + query({ batch: id }));
  const out = h('div', { id: 'requests-out' });
  main.replaceChildren(h('h1', {}, t.batchView.title), h('p', {}, h('a', { href: '/requests' }, t.requests.all)), out);
  const path = '/me/contact-change-batches/' + encodeURIComponent(id);
  const fail = (/** @type {unknown} */ e) => message(errorText(t, e, t.batchView.errors), true);

  /** @type {Batch} */
  let current = { id };
  /** @type {HTMLElement} the batch as drawn last */
  let el = h('p', {}, t.loading);
  out.append(el);
  /** @type {Node[]} what the last action said, kept while the batch is drawn again */
  let said = [];

  // draw puts b on the page; focus stays in the batch if it was there.
  const draw = (/** @type {Batch} */ b, /** @type {string} */ tok) => {
    const focused = el.contains(document.activeElement);
    current = b;
    const next = batchView(t, me, lang, b, tok, said, act);
    el.replaceWith(next);
    el = next;
    if (focused) /** @type {HTMLElement} */ (next.querySelector('#batch-outcome-title, h2')).focus();
  };

  // follow draws the batch again while one of its requests is applying, bounded (about
  // 10 s), as settle does for one request.
  const follow = async () => {
    const mine = el;
    for (let tries = 20; changesOf(current).some((c) => c.state === 'applying') && tries > 0; tries--) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (el !== mine || !mine.isConnected) return;
      /** @type {Batch} */
      let fresh;
      try {
        fresh = await call('GET', path);
      } catch {
        return;
      }
      if (el !== mine || !mine.isConnected) return;
      const before = changesOf(current).map((c) => c.state).join();
      if (changesOf(fresh).map((c) => c.state).join() !== before) {
        draw(fresh, '');
        return follow();
      }
      current = fresh;
    }
  };

  // reread is the batch after an answer; should it fail, the batch as it was drawn: the
  // answer's outcome is what matters then, and an error would read as if it had failed.
  const reread = async () => {
    try {
      return /** @type {Batch} */ (await call('GET', path));
    } catch {
      return current;
    }
  };

  /**
   * @param {string} what accept, refuse or resend
   * @param {string} [tok]
   */
  async function act(what, tok) {
    for (const b of el.querySelectorAll('button')) b.disabled = true;
    const outcome = /** @type {HTMLElement} */ (el.querySelector('.outcome'));
    try {
      if (what === 'resend') {
        /** @type {Batch} */
        const sent = await call('POST', path + '/resend');
        said = [message(t.batchView.done.resend, false)];
        draw(sent && sent.items ? sent : await reread(), '');
        /** @type {HTMLElement} */ (el.querySelector('h2')).focus();
        return;
      }
      /** @type {{items?: BatchAnswer[]}} */
      const answer = await call('POST', `${path}/${what}`, { token: tok });
      const items = answer.items || [];
      const ok = items.some((it) => !it.error);
      said = [ok ? message(t.batchView.done[what], false) : message(t.batchView.noneAnswered, true), ...answered(t, what, items)];
      draw(await reread(), '');
      /** @type {HTMLElement} */ (el.querySelector('#batch-outcome-title')).focus();
      follow();
    } catch (e) {
      for (const b of el.querySelectorAll('button')) b.disabled = false;
      said = [fail(e)];
      outcome.replaceChildren(...said);
    }
  }

  try {
    draw(await call('GET', path), token);
  } catch (e) {
    out.replaceChildren(fail(e));
    if (token) out.append(message(t.requests.notYours(me.nic), true));
    return;
  }
  if (token && waitingOn(current, me.nic).length === 0) out.prepend(message(t.requests.notYours(me.nic), true));
  follow();
}

// answered is the outcome of a batch answer: for each request that needed the account,
// answered now, or the sentence of why not.
/**
 * @param {Texts} t
 * @param {string} what accept or refuse
 * @param {BatchAnswer[]} items
 * @returns {HTMLElement[]}
 */
function answered(t, what, items) {
  const ok = items.filter((it) => !it.error).length;
  return [
    h('h3', { id: 'batch-outcome-title', tabindex: '-1' }, t.batchView.outcome),
    h('p', {}, t.batchView.count(ok, items.length)),
    h('ul', { id: 'batch-outcome' }, items.map((it) => h('li', { 'data-id': it.changeId, 'data-outcome': it.error ? 'error' : 'answered' },
      t.requests.heading(t.role[it.role] || it.role, it.serviceId), ': ',
      // Its state since then is the table's.
      it.error ? h('span', { class: 'error-text' }, errorText(t, it.error, t.batchView.errors)) : t.batchView.answered[what]))),
  ];
}

/**
 * @param {Texts} t
 * @param {Me} me
 * @param {string} lang
 * @param {Batch} b
 * @param {string} token
 * @param {Node[]} said
 * @param {(what: string, token?: string) => void} act
 * @returns {HTMLElement}
 */
function batchView(t, me, lang, b, token, said, act) {
  const el = h('section', { class: 'batch', 'data-id': b.id, 'aria-labelledby': 'batch-requests-title' });
  const changes = changesOf(b);
  const mine = waitingOn(b, me.nic);
  const involved = b.requestedBy === me.nic || changes.some((c) => (c.parties || []).some((p) => p.nic === me.nic));
  const canResend = involved && changes.some((c) => c.state === 'pending' && (c.parties || []).some((p) => p.status === 'waiting'));
  const field = (/** @type {string} */ label, /** @type {string} */ value) => [h('dt', {}, label), h('dd', {}, value)];
  const out = h('div', { class: 'outcome', 'aria-live': 'polite' }, said);

  /** @type {Node[]} */
  const rows = [];
  for (const it of b.items || []) {
    if (it.error || !(it.created || []).length) {
      rows.push(h('tr', { 'data-service': it.serviceId, 'data-outcome': 'error' },
        h('th', { scope: 'row' }, it.serviceId),
        h('td', { colspan: '5', class: 'error-text' }, t.batchView.noRequest, it.error ? ': ' + errorText(t, it.error) : null)));
      continue;
    }
    for (const c of it.created || []) {
      const role = t.role[c.role] || c.role;
      rows.push(h('tr', { 'data-id': c.id, 'data-service': it.serviceId, 'data-state': c.state },
        h('th', { scope: 'row' }, it.serviceId),
        h('td', {}, role),
        h('td', {}, `${c.from} → ${c.to}`),
        h('td', { class: 'state state-' + c.state }, t.state[c.state] || c.state),
        h('td', {}, h('ul', { class: 'parties' }, (c.parties || []).map((p) => h('li', { 'data-nic': p.nic, 'data-status': p.status },
          partyText(t, me, p), p.bounced ? ` (${t.requests.bounced})` : null)))),
        h('td', {}, h('a', { href: '/requests' + query({ id: c.id }) }, t.batchView.request,
          h('span', { class: 'visually-hidden' }, ' — ', t.batchView.seeRequest(role, it.serviceId))))));
    }
  }

  /** @type {Node[]} */
  const answer = [];
  if (mine.length > 0) {
    const input = h('input', { id: 'batch-token', class: 'token', type: 'text', value: token, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'batch-answer-hint' });
    const answerWith = (/** @type {string} */ what) => () => {
      const tok = input.value.trim();
      if (!tok) {
        out.replaceChildren(message(t.requests.missingToken, true));
        input.focus();
        return;
      }
      act(what, tok);
    };
    answer.push(h('h2', {}, t.batchView.answer),
      h('p', { class: 'note', id: 'batch-answer-hint' }, t.batchView.answerHint),
      h('div', { class: 'field' }, h('label', { for: 'batch-token' }, t.batchView.token), input),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', id: 'batch-accept', class: 'accept', on: { click: answerWith('accept') } }, t.batchView.acceptAll),
        h('button', { type: 'button', id: 'batch-refuse', class: 'refuse', on: { click: answerWith('refuse') } }, t.batchView.refuseAll)));
  }

  el.append(
    h('dl', { class: 'fields' },
      field(t.requests.requestedBy, b.requestedBy || ''),
      field(t.requests.createdAt, when(lang, b.createdAt || '')),
      field(t.requests.expiresAt, when(lang, b.expiresAt || ''))),
    h('p', { id: 'batch-waiting', class: mine.length ? 'msg ok' : 'note' }, mine.length ? t.batchView.waitingYou(mine.length) : t.batchView.notWaiting),
    h('h2', { id: 'batch-requests-title', tabindex: '-1' }, t.batchView.requests),
    h('table', { class: 'batch-requests' },
      h('caption', { class: 'visually-hidden' }, t.batchView.requests),
      h('thead', {}, h('tr', {}, [t.batchView.service, t.batchView.role, t.batchView.change, t.batchView.state, t.batchView.parties, t.batchView.request].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)),
    ...answer,
    // append would write a null out as the text "null".
    ...(canResend ? [h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'batch-resend', class: 'resend secondary', on: { click: () => act('resend') } }, t.batchView.resend))] : []),
    out);
  return el;
}
