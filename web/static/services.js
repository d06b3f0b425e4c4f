// Services: the services where the account holds a role, and the form that asks for new
// contacts.
import { call, query } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';
import { ROLES, editable, permit } from './rules.js';

/** @typedef {import('./i18n.js').Texts} Texts */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./api.js').Service} Service */

/**
 * @param {HTMLElement} main
 * @param {Texts} t
 * @param {Me} me
 */
export async function servicesScreen(main, t, me) {
  const params = new URLSearchParams(location.search);
  const filter = { q: params.get('q') || '', type: params.get('type') || '', role: params.get('role') || '', cursor: params.get('cursor') || '' };
  const out = h('div', { id: 'services-out' });
  const edit = h('section', { id: 'edit', 'aria-labelledby': 'edit-title', hidden: true });

  const search = h('input', { id: 'search', type: 'search', value: filter.q, autocomplete: 'off' });
  const type = h('input', { id: 'type', type: 'text', value: filter.type, list: 'types', autocomplete: 'off' });
  const types = h('datalist', { id: 'types' });
  const role = h('select', { id: 'role' },
    h('option', { value: '' }, t.services.any),
    ROLES.map((r) => h('option', { value: r, selected: r === filter.role }, t.role[r])));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t.services.filters },
    h('div', { class: 'field' }, h('label', { for: 'search' }, t.services.search), search),
    h('div', { class: 'field' }, h('label', { for: 'type' }, t.services.type), type, types),
    h('div', { class: 'field' }, h('label', { for: 'role' }, t.services.role), role),
    h('button', { type: 'submit' }, t.services.apply));
  main.replaceChildren(h('h1', {}, t.services.title), form, h('p', { class: 'note', id: 'search-note' }, t.services.searchNote), out, edit);
  search.setAttribute('aria-describedby', 'search-note');

  // The search filters the loaded page as one types; type and role ask the API.
  const applySearch = () => {
    const q = search.value.trim().toLowerCase();
    for (const tr of /** @type {NodeListOf<HTMLTableRowElement>} */ (out.querySelectorAll('tbody tr'))) tr.hidden = q !== '' && !/** @type {string} */ (tr.dataset.id).includes(q);
  };
  search.addEventListener('input', applySearch);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = '/services' + query({ q: search.value.trim(), type: type.value.trim(), role: role.value });
    location.assign(u);
  });

  /** @type {import('./api.js').Page<Service>} */
  let page;
  try {
    page = await call('GET', '/me/services' + query({ type: filter.type, role: filter.role, cursor: filter.cursor }));
  } catch (e) {
    out.replaceChildren(message(errorText(t, e), true));
    return;
  }
  const items = page.items || [];
  types.replaceChildren(...[...new Set(items.map((s) => s.type))].map((ty) => h('option', { value: ty })));
  if (items.length === 0) {
    out.replaceChildren(h('p', {}, t.services.none));
  } else {
    out.replaceChildren(table(t, me, items, edit));
  }
  const paging = h('nav', { class: 'paging', 'aria-label': t.services.title });
  if (filter.cursor) paging.append(h('a', { href: '/services' + query({ q: filter.q, type: filter.type, role: filter.role }) }, t.services.first));
  if (page.nextCursor) {
    paging.append(h('a', { href: '/services' + query({ q: filter.q, type: filter.type, role: filter.role, cursor: page.nextCursor }), id: 'next-page' }, t.services.next));
  }
  if (paging.childElementCount) out.append(paging);
  applySearch();
}

/**
 * @param {Texts} t
 * @param {Me} me
 * @param {Service[]} items
 * @param {HTMLElement} edit
 */
function table(t, me, items, edit) {
  const head = [t.services.id, t.services.type, t.contact.admin, t.contact.tech, t.contact.billing, t.services.myRoles, t.services.actions];
  return h('table', { class: 'services' },
    h('caption', { class: 'visually-hidden' }, t.services.title),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, items.map((s, i) => h('tr', { 'data-id': s.id },
      h('th', { scope: 'row' }, s.id),
      h('td', {}, s.type),
      ROLES.map((r) => h('td', { 'data-role': r }, s.contacts[r])),
      h('td', {}, (s.myRoles || []).map((r) => t.role[r] || r).join(', ')),
      h('td', {}, actions(t, me, s, i, edit))))));
}

// actions is the row's menu button and its menu.
/**
 * @param {Texts} t
 * @param {Me} me
 * @param {Service} svc
 * @param {number} i
 * @param {HTMLElement} edit
 */
function actions(t, me, svc, i, edit) {
  const menuId = 'menu-' + i;
  const button = h('button', { type: 'button', class: 'menu-button', 'aria-label': t.services.actionsFor(svc.id), 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId }, '⋯');
  const item = h('button', { type: 'button', role: 'menuitem', class: 'edit-contacts' }, t.services.edit);
  const menu = h('ul', { id: menuId, role: 'menu', class: 'menu', hidden: true, 'aria-label': t.services.actionsFor(svc.id) }, h('li', { role: 'none' }, item));
  const close = (/** @type {boolean} */ focus) => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focus) button.focus();
  };
  const open = () => {
    for (const other of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.menu:not([hidden])'))) other.hidden = true;
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    item.focus();
  };
  button.addEventListener('click', () => (menu.hidden ? open() : close(true)));
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close(true);
  });
  document.addEventListener('click', (ev) => {
    if (!menu.hidden && !menu.contains(/** @type {Node | null} */ (ev.target)) && ev.target !== button) close(false);
  });
  item.addEventListener('click', () => {
    close(false);
    editForm(t, me, svc, edit);
  });
  return h('div', { class: 'actions' }, button, menu);
}

/**
 * @param {Texts} t
 * @param {Me} me
 * @param {Service} svc
 * @param {HTMLElement} edit
 */
function editForm(t, me, svc, edit) {
  const mine = svc.myRoles || [];
  /** @type {Record<string, HTMLInputElement>} */
  const inputs = {};
  const fields = ROLES.map((r) => {
    const allowed = editable(mine, r);
    inputs[r] = h('input', {
      id: 'edit-' + r, name: r, type: 'text', value: svc.contacts[r], disabled: !allowed,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': allowed ? false : 'locked-' + r,
    });
    return h('div', { class: 'field' },
      h('label', { for: 'edit-' + r }, t.contact[r]),
      inputs[r],
      allowed ? null : h('p', { class: 'note', id: 'locked-' + r }, t.edit.locked));
  });
  const out = h('div', { id: 'edit-out', 'aria-live': 'polite' });
  const confirm = h('button', { type: 'submit', id: 'edit-confirm' }, t.edit.confirm);
  const closeButton = h('button', { type: 'button', class: 'secondary' }, t.edit.close);
  const form = h('form', { id: 'edit-form' }, fields, h('div', { class: 'buttons' }, confirm, closeButton));
  const title = h('h2', { id: 'edit-title', tabindex: '-1' }, t.edit.title(svc.id));
  edit.replaceChildren(title, h('p', { class: 'note' }, t.edit.hint), form, out);
  edit.hidden = false;
  title.focus();
  closeButton.addEventListener('click', () => {
    edit.hidden = true;
    edit.replaceChildren();
    /** @type {HTMLElement | null} */ (document.querySelector(`tr[data-id="${CSS.escape(svc.id)}"] .menu-button`))?.focus();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    // Only the changed fields are sent: each one is a request of its own.
    /** @type {Record<string, string>} */
    const body = {};
    for (const r of ROLES) {
      if (inputs[r].disabled) continue;
      const v = inputs[r].value.trim().toLowerCase();
      if (v !== '' && v !== svc.contacts[r].toLowerCase()) body[r] = v;
    }
    const changed = Object.keys(body);
    if (changed.length === 0) {
      out.replaceChildren(message(t.edit.noChange, true));
      return;
    }
    const refused = changed.find((r) => !permit(mine, me.nic, r, body[r]));
    if (refused) {
      out.replaceChildren(message(t.edit.notAllowed(t.role[refused]), true));
      return;
    }
    confirm.disabled = true;
    try {
      const created = await call('POST', '/services/' + encodeURIComponent(svc.id) + '/contact-changes', body);
      out.replaceChildren(h('h3', { id: 'created-title' }, t.edit.created),
        h('ul', { id: 'created' }, (/** @type {import('./api.js').Change[]} */ (created.items || [])).map((c) => h('li', { 'data-id': c.id },
          t.edit.item(t.role[c.role] || c.role, c.from, c.to), ' ',
          t.edit.mustConfirm((c.parties || []).map((p) => p.nic).join(', ')), ' ',
          h('a', { href: '/requests' + query({ id: c.id }) }, t.edit.see)))));
      for (const r of ROLES) inputs[r].disabled = true;
    } catch (e) {
      confirm.disabled = false;
      out.replaceChildren(message(errorText(t, e), true));
    }
  });
}
