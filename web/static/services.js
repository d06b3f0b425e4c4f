// Services: the services where the account holds a role, the form that asks for new
// contacts of one, and the selection and form that ask for one change over many (a batch).
import { call, query } from './api.js';
import { h, message } from './dom.js';
import { errorText } from './i18n.js';
import { ROLES, editable, permit } from './rules.js';

/** @typedef {import('./i18n.js').Texts} Texts */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./api.js').Service} Service */

// A batch holds at most this many services (SPEC §2).
export const MAX_BATCH = 100;

/**
 * The services chosen for one change over many.
 * @typedef {{has: (id: string) => boolean, set: (id: string, on: boolean) => void, clear: () => void, list: () => string[], size: () => number}} Selection
 */

// selection keeps the chosen services' ids for the tab and the account (sessionStorage),
// so that paging, filtering or a reload keeps them; another account signed in on the tab
// has a selection of its own.
/**
 * @param {string} nic
 * @returns {Selection}
 */
function selection(nic) {
  const key = 'customerspace.selection.' + nic;
  /** @type {Set<string>} */
  let ids = new Set();
  try {
    const kept = JSON.parse(sessionStorage.getItem(key) || '[]');
    if (Array.isArray(kept)) ids = new Set(kept.filter((id) => typeof id === 'string'));
  } catch {
    // A value that is not ours: start again.
  }
  const save = () => (ids.size ? sessionStorage.setItem(key, JSON.stringify([...ids])) : sessionStorage.removeItem(key));
  return {
    has: (id) => ids.has(id),
    set(id, on) {
      if (on) ids.add(id);
      else ids.delete(id);
      save();
    },
    clear() {
      ids.clear();
      save();
    },
    list: () => [...ids],
    size: () => ids.size,
  };
}

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
  const batch = h('section', { id: 'batch', 'aria-labelledby': 'batch-title', hidden: true });
  const sel = selection(me.nic);

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
  // The selection's bar: how many services are chosen, and the change over all of them.
  const count = h('p', { id: 'selected-count', role: 'status' });
  const batchButton = h('button', { type: 'button', id: 'batch-edit', 'aria-describedby': 'selected-count' }, t.services.batchEdit);
  const clearButton = h('button', { type: 'button', id: 'clear-selection', class: 'secondary' }, t.services.clearSelection);
  const bar = h('div', { class: 'selection', id: 'selection' },
    h('div', { class: 'buttons' }, batchButton, clearButton), count,
    h('p', { class: 'note' }, t.services.keptNote));
  main.replaceChildren(h('h1', {}, t.services.title), form, h('p', { class: 'note', id: 'search-note' }, t.services.searchNote), bar, out, edit, batch);
  search.setAttribute('aria-describedby', 'search-note');

  /** @type {{sync: () => void} | null} */
  let openBatch = null;
  const checkboxes = () => /** @type {HTMLInputElement[]} */ ([...out.querySelectorAll('tbody input.select')]);
  // update draws what follows from the selection: the count, the buttons, the page's
  // "select all" box (of the rows the search shows) and an open batch form.
  const update = () => {
    const n = sel.size();
    count.textContent = t.services.selected(n) + (n > MAX_BATCH ? ' ' + t.services.tooMany(MAX_BATCH) : '');
    count.classList.toggle('error-text', n > MAX_BATCH);
    batchButton.disabled = n === 0 || n > MAX_BATCH;
    clearButton.disabled = n === 0;
    const all = /** @type {HTMLInputElement | null} */ (out.querySelector('#select-all'));
    if (all) {
      const shown = checkboxes().filter((c) => !/** @type {HTMLElement} */ (c.closest('tr')).hidden);
      const on = shown.filter((c) => c.checked).length;
      all.checked = shown.length > 0 && on === shown.length;
      all.indeterminate = on > 0 && on < shown.length;
    }
    if (openBatch) openBatch.sync();
    // Nothing to choose from, and nothing chosen elsewhere: no bar.
    bar.hidden = n === 0 && !out.querySelector('tbody tr');
  };
  out.addEventListener('change', (ev) => {
    const box = /** @type {HTMLInputElement} */ (ev.target);
    if (box.id === 'select-all') {
      for (const c of checkboxes()) {
        if (/** @type {HTMLElement} */ (c.closest('tr')).hidden) continue;
        c.checked = box.checked;
        sel.set(c.value, c.checked);
      }
    } else if (box.classList.contains('select')) {
      sel.set(box.value, box.checked);
    }
    update();
  });
  clearButton.addEventListener('click', () => {
    sel.clear();
    for (const c of checkboxes()) c.checked = false;
    update();
  });
  batchButton.addEventListener('click', () => {
    edit.hidden = true;
    edit.replaceChildren();
    openBatch = batchForm(t, sel, batch, () => {
      for (const c of checkboxes()) c.checked = sel.has(c.value);
      update();
    }, () => {
      openBatch = null;
      // Back where the form was opened; once the batch is made (nothing selected, the
      // button disabled), to the page's selection.
      if (!batchButton.disabled) batchButton.focus();
      else /** @type {HTMLElement | null} */ (out.querySelector('#select-all'))?.focus();
    });
  });

  // The search filters the loaded page as one types; type and role ask the API.
  const applySearch = () => {
    const q = search.value.trim().toLowerCase();
    for (const tr of /** @type {NodeListOf<HTMLTableRowElement>} */ (out.querySelectorAll('tbody tr'))) tr.hidden = q !== '' && !/** @type {string} */ (tr.dataset.id).includes(q);
    update();
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
    update();
    return;
  }
  const items = page.items || [];
  types.replaceChildren(...[...new Set(items.map((s) => s.type))].map((ty) => h('option', { value: ty })));
  if (items.length === 0) {
    out.replaceChildren(h('p', {}, t.services.none));
  } else {
    out.replaceChildren(table(t, me, items, edit, sel));
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
 * @param {Selection} sel
 */
function table(t, me, items, edit, sel) {
  const head = [t.services.id, t.services.type, t.contact.admin, t.contact.tech, t.contact.billing, t.services.myRoles, t.services.actions];
  return h('table', { class: 'services' },
    h('caption', { class: 'visually-hidden' }, t.services.title),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'pick' },
        h('input', { type: 'checkbox', id: 'select-all' }),
        h('label', { for: 'select-all', class: 'visually-hidden' }, t.services.selectAll)),
      head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, items.map((s, i) => h('tr', { 'data-id': s.id },
      h('td', { class: 'pick' }, h('input', { type: 'checkbox', class: 'select', id: 'select-' + i, value: s.id, checked: sel.has(s.id), 'aria-label': t.services.select(s.id) })),
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
  // One form at a time: the change over many closes.
  const batch = document.getElementById('batch');
  if (batch && !batch.hidden) /** @type {HTMLButtonElement | null} */ (batch.querySelector('.close'))?.click();
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

// batchForm opens the form of one change over the selected services: the three contacts,
// empty (an empty field changes nothing), and Confirm, which asks for the batch and draws
// what became of each service. It follows the selection until it is confirmed; changed
// calls back once the batch is made (the selection is then emptied), closed when the form
// is closed.
/**
 * @param {Texts} t
 * @param {Selection} sel
 * @param {HTMLElement} section
 * @param {() => void} changed
 * @param {() => void} closed
 * @returns {{sync: () => void}}
 */
function batchForm(t, sel, section, changed, closed) {
  /** @type {Record<string, HTMLInputElement>} */
  const inputs = {};
  const fields = ROLES.map((r) => {
    inputs[r] = h('input', { id: 'batch-' + r, name: r, type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'batch-hint' });
    return h('div', { class: 'field' }, h('label', { for: 'batch-' + r }, t.contact[r]), inputs[r]);
  });
  const title = h('h2', { id: 'batch-title', tabindex: '-1' });
  const list = h('ul', { id: 'batch-services', class: 'ids' });
  const out = h('div', { id: 'batch-out', 'aria-live': 'polite' });
  const confirm = h('button', { type: 'submit', id: 'batch-confirm' }, t.batch.confirm);
  const closeButton = h('button', { type: 'button', class: 'secondary close' }, t.batch.close);
  const form = h('form', { id: 'batch-form' }, fields, h('div', { class: 'buttons' }, confirm, closeButton));
  section.replaceChildren(title,
    h('p', { class: 'note', id: 'batch-hint' }, t.batch.hint),
    h('h3', {}, t.batch.services), list,
    form, out);
  section.hidden = false;
  let sent = false;
  const sync = () => {
    if (sent) return;
    const ids = sel.list();
    title.textContent = t.batch.title(ids.length);
    list.replaceChildren(...ids.map((id) => h('li', {}, id)));
    confirm.disabled = ids.length === 0 || ids.length > MAX_BATCH;
  };
  sync();
  title.focus();
  closeButton.addEventListener('click', () => {
    section.hidden = true;
    section.replaceChildren();
    closed();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (sent) return;
    const services = sel.list();
    /** @type {Record<string, unknown>} */
    const body = { services };
    for (const r of ROLES) {
      const v = inputs[r].value.trim().toLowerCase();
      if (v !== '') body[r] = v;
    }
    if (Object.keys(body).length === 1) {
      out.replaceChildren(message(t.batch.noChange, true));
      inputs.admin.focus();
      return;
    }
    confirm.disabled = true;
    try {
      /** @type {import('./api.js').Batch} */
      const made = await call('POST', '/me/contact-change-batches', body);
      sent = true;
      for (const r of ROLES) inputs[r].disabled = true;
      const heading = h('h3', { id: 'batch-result-title', tabindex: '-1' }, t.batch.result);
      out.replaceChildren(heading, ...batchResult(t, made));
      heading.focus();
      sel.clear();
      changed();
    } catch (e) {
      confirm.disabled = false;
      out.replaceChildren(message(errorText(t, e), true));
    }
  });
  return { sync };
}

// batchResult is what a new batch did to each of its services: the requests created and
// who must confirm them, or the sentence of the service's error.
/**
 * @param {Texts} t
 * @param {import('./api.js').Batch} made
 * @returns {HTMLElement[]}
 */
function batchResult(t, made) {
  const items = made.items || [];
  const ok = items.filter((it) => !it.error && (it.created || []).length > 0).length;
  return [
    message(t.batch.summary(ok, items.length), ok === 0),
    ...(ok > 0 ? [h('p', { class: 'note' }, t.batch.once)] : []),
    h('table', { id: 'batch-result' },
      h('caption', { class: 'visually-hidden' }, t.batch.result),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.batch.service), h('th', { scope: 'col' }, t.batch.outcome))),
      h('tbody', {}, items.map((it) => h('tr', { 'data-id': it.serviceId, 'data-outcome': it.error ? 'error' : 'created' },
        h('th', { scope: 'row' }, it.serviceId),
        it.error
          ? h('td', { class: 'error-text' }, errorText(t, it.error))
          : h('td', {}, h('ul', { class: 'created' }, (it.created || []).map((c) => h('li', { 'data-id': c.id },
            t.edit.item(t.role[c.role] || c.role, c.from, c.to), ' ',
            t.edit.mustConfirm((c.parties || []).map((p) => p.nic).join(', ')))))))))),
    ...(ok > 0 ? [h('p', {}, h('a', { id: 'batch-link', href: '/requests' + query({ batch: made.id }) }, t.batch.see))] : []),
  ];
}
