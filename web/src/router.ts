// A small history-API router. Routes come from resident/routes.ts and staff/routes.ts; each names the
// realm that must be logged in (or none) and loads its page module on first use (one chunk per area).
// After every navigation the page's main heading gets focus and the document title follows it.

import type { Realm } from "./auth";
import { h, type Attrs, type Child } from "./dom";
import type { Key } from "./i18n";

export interface PageContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The <main> element: the page renders into it (its first <h1> gets focus afterwards). */
  main: HTMLElement;
  /** Aborted when the user navigates away before the page finished loading. */
  signal: AbortSignal;
}

export interface Route {
  /** "/cases/:caseId" */
  path: string;
  /** The realm that must be logged in; absent for public pages. */
  realm?: Realm;
  /** Shown in the main navigation of that realm (or of everyone, for public pages), in this order. */
  nav?: { label: Key; order: number; realms?: (Realm | "public")[] };
  render: PageFunction;
}

export type PageFunction = (context: PageContext) => Promise<void> | void;

/** The page function `name` of a module loaded on first use (its own chunk), e.g. lazyPage(inbox, "inboxPage"). */
export function lazyPage<K extends string, M extends Record<K, PageFunction>>(
  load: () => Promise<M>,
  name: K,
): (context: PageContext) => Promise<void> {
  return async (context) => {
    await (await load())[name](context);
  };
}

interface Compiled {
  route: Route;
  pattern: RegExp;
  names: string[];
}

const compiled: Compiled[] = [];
let onRender: ((route: Route | null, context: PageContext) => Promise<void>) | null = null;

export function addRoutes(routes: Route[]): void {
  for (const route of routes) {
    const names: string[] = [];
    const source = route.path
      .split("/")
      .map((part) => {
        if (part.startsWith(":")) {
          names.push(part.slice(1));
          return "([^/]+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    compiled.push({ route, pattern: new RegExp(`^${source}/?$`), names });
  }
}

export function allRoutes(): Route[] {
  return compiled.map((c) => c.route);
}

export function match(path: string): { route: Route; params: Record<string, string> } | null {
  for (const { route, pattern, names } of compiled) {
    const found = pattern.exec(path);
    if (found) {
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(found[i + 1] ?? "");
      });
      return { route, params };
    }
  }
  return null;
}

/** The layout renders a route (or "not found" for null) when the location changes. */
export function onNavigate(render: (route: Route | null, context: PageContext) => Promise<void>): void {
  onRender = render;
}

let controller: AbortController | null = null;

export async function renderCurrent(main: HTMLElement): Promise<void> {
  controller?.abort();
  controller = new AbortController();
  const found = match(location.pathname);
  const context: PageContext = {
    params: found?.params ?? {},
    query: new URLSearchParams(location.search),
    main,
    signal: controller.signal,
  };
  await onRender?.(found?.route ?? null, context);
}

let mainElement: HTMLElement | null = null;

export function startRouter(main: HTMLElement): void {
  mainElement = main;
  window.addEventListener("popstate", () => void renderCurrent(main));
}

/** Go to an in-app path (pushState) and render it. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  if (mainElement) void renderCurrent(mainElement);
}

/** Re-render the current page in place (after a language or session change). */
export function refresh(): void {
  if (mainElement) void renderCurrent(mainElement);
}

/** An in-app link: a real <a href> (so it opens in a new tab, can be copied), handled without a reload. */
export function link(href: string, attrs: Attrs | null, ...children: Child[]): HTMLAnchorElement {
  return h(
    "a",
    {
      ...attrs,
      href,
      onclick: (event: Event) => {
        const mouse = event as MouseEvent;
        if (mouse.button !== 0 || mouse.metaKey || mouse.ctrlKey || mouse.shiftKey || mouse.altKey) return;
        event.preventDefault();
        navigate(href);
      },
    },
    ...children,
  );
}
