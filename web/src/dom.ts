// Small, safe element builders. Text always becomes text nodes; nothing here (or anywhere in the app) sets
// innerHTML, so data from the API can never become markup. Styling is by class names only (strict CSP).

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "open"]);

/** `h("a", {href: "/inbox", class: "link", onclick: go}, "Inkorg")`. `on<event>` attributes become
 *  listeners; true/false/null attributes are present/absent; `value`, `checked`, ... set the property. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) {
      if (PROPERTIES.has(name)) (element as unknown as Record<string, unknown>)[name] = false;
      continue;
    }
    if (typeof value === "function") {
      if (!name.startsWith("on")) throw new Error(`${name} is not an event attribute`);
      element.addEventListener(name.slice(2), value);
    } else if (name === "style" || (name.startsWith("on") && name.length > 2)) {
      throw new Error(`${name}: inline styles and inline handlers are not allowed (CSP)`);
    } else if (PROPERTIES.has(name) && name !== "hidden" && name !== "open") {
      (element as unknown as Record<string, unknown>)[name] = name === "value" ? String(value) : value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

let counter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id"): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
