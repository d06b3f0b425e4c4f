// A small DOM builder: elements are made with text nodes, never from HTML strings.

// h makes a tag with attrs and children. attrs.on maps events to listeners; a false, null
// or undefined attribute is left out, true sets it empty.
/** @typedef {Node | string | number | boolean | null | undefined} Leaf */
/** @typedef {Leaf | Leaf[] | Leaf[][]} Child */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(/** @type {Record<string, EventListener>} */ (v))) el.addEventListener(ev, fn);
    } else if (k === 'value') {
      /** @type {HTMLInputElement} */ (/** @type {unknown} */ (el)).value = /** @type {string} */ (v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else if (v !== false && v !== null && v !== undefined) {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement} el
 * @param {unknown[]} children
 */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// message is a line that assistive technology reads out: an alert for errors, a status
// otherwise.
/**
 * @param {string} text
 * @param {boolean} isError
 */
export function message(text, isError) {
  return h('p', { class: isError ? 'msg error' : 'msg ok', role: isError ? 'alert' : 'status' }, text);
}
