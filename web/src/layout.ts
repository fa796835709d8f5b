// The page shell: skip link, header (service name, language, who is logged in, log out), the realm's
// session bar (residents: whom they act for; staff: their commission), the main navigation, <main>, footer.
// It renders the routes the router matches and moves focus to each new page's main heading.

import { endSession, getSession, onSessionChange, startLogin, type EndReason, type Realm } from "./auth";
import { config } from "./config";
import { fill, h, type Child } from "./dom";
import { currentLang, onLangChange, setLang, t } from "./i18n";
import { allRoutes, link, onNavigate, refresh, type PageContext, type Route } from "./router";
import { button, loading, notice, pageHeading, problemNotice } from "./ui";

const sessionBars = new Map<Realm, () => Child>();
let header: HTMLElement;
let nav: HTMLElement;
let barSlot: HTMLElement;
let footer: HTMLElement;
let firstRender = true;
let endNotice: EndReason | null = null;

/** A realm's line under the header while it is logged in (re-rendered by refreshChrome). */
export function registerSessionBar(realm: Realm, render: () => Child): void {
  sessionBars.set(realm, render);
}

export function mountLayout(root: HTMLElement): HTMLElement {
  const main = h("main", { id: "main", tabindex: "-1", class: "main" });
  header = h("header", { class: "site-header" });
  barSlot = h("div", { class: "session-bar-slot" });
  nav = h("nav", { class: "site-nav", "aria-labelledby": "nav-title" });
  footer = h("footer", { class: "site-footer" });
  const skip = h(
    "a",
    {
      class: "skip-link",
      href: "#main",
      onclick: (event: Event) => {
        event.preventDefault();
        main.focus();
      },
    },
  );
  fill(root, skip, header, barSlot, nav, h("div", { class: "page" }, main), footer);
  refreshChrome();
  onLangChange(() => {
    refreshChrome();
    refresh();
  });
  onSessionChange((session, reason) => {
    endNotice = session ? null : reason;
    refreshChrome();
    if (reason === "logout") {
      history.pushState(null, "", "/");
    }
    if (reason) refresh();
  });
  onNavigate((route, context) => renderRoute(route, context));
  return main;
}

export function refreshChrome(): void {
  const session = getSession();
  const skip = document.querySelector(".skip-link");
  if (skip) skip.textContent = t("layout.skip");
  fill(
    header,
    h(
      "div",
      { class: "header-inner" },
      link("/", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "+"), t("app.name")),
      h(
        "div",
        { class: "header-tools" },
        currentLang() === "sv"
          ? button("In English", { lang: "en", class: "link-button", onclick: () => void setLang("en") })
          : button("På svenska", { lang: "sv", class: "link-button", onclick: () => void setLang("sv") }),
        session
          ? button(t("layout.logout"), { class: "link-button", onclick: () => endSession("logout") })
          : null,
      ),
    ),
  );
  const bar = session ? sessionBars.get(session.realm) : undefined;
  fill(barSlot, bar ? bar() : null);
  renderNav(session?.realm ?? null);
  void renderFooter();
}

function renderNav(realm: Realm | null): void {
  const items = allRoutes()
    .filter((r) => r.nav && (r.nav.realms ?? [r.realm ?? "public"]).includes(realm ?? "public"))
    .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0));
  const list = h(
    "ul",
    { class: "nav-list", id: "nav-list" },
    ...items.map((route) => {
      const current = isCurrent(route.path);
      return h(
        "li",
        null,
        link(route.path, { class: "nav-link", "aria-current": current ? "page" : null }, t(route.nav!.label)),
      );
    }),
  );
  const toggle = h(
    "button",
    {
      type: "button",
      class: "nav-toggle",
      "aria-expanded": "false",
      "aria-controls": "nav-list",
      onclick: () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        nav.classList.toggle("nav-open", open);
      },
    },
    t("layout.menu"),
  );
  nav.classList.remove("nav-open");
  fill(nav, h("h2", { id: "nav-title", class: "visually-hidden" }, t("layout.nav")), toggle, list);
}

function isCurrent(path: string): boolean {
  const here = location.pathname;
  return path === "/" ? here === "/" : here === path || here.startsWith(`${path}/`);
}

async function renderFooter(): Promise<void> {
  let environment: string | undefined;
  try {
    environment = (await config()).environment;
  } catch {
    environment = undefined;
  }
  fill(
    footer,
    h(
      "div",
      { class: "footer-inner" },
      h("p", null, t("layout.footer")),
      environment && environment !== "production"
        ? h("p", { class: "environment" }, t("layout.environment", { name: environment }))
        : null,
    ),
  );
}

async function renderRoute(route: Route | null, context: PageContext): Promise<void> {
  const { main, signal } = context;
  renderNav(getSession()?.realm ?? null);
  const session = getSession();
  try {
    if (!route) {
      fill(main, ...pageHeading(t("page.not-found")), h("p", null, t("page.not-found-text")), link("/", null, t("page.to-start")));
    } else if (route.realm && session?.realm !== route.realm) {
      renderLoginRequired(main, route.realm);
    } else {
      fill(main, loading());
      await route.render(context);
    }
  } catch (error) {
    if (signal.aborted) return;
    fill(main, ...pageHeading(t("page.error")), problemNotice(error));
  }
  if (signal.aborted) return;
  const heading = main.querySelector<HTMLElement>("h1");
  document.title = heading?.textContent ? `${heading.textContent} – ${t("app.name")}` : t("app.name");
  if (!firstRender && heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  firstRender = false;
}

function renderLoginRequired(main: HTMLElement, realm: Realm): void {
  const returnTo = location.pathname + location.search;
  const why =
    endNotice === "expired" || endNotice === "rejected"
      ? notice("warning", h("p", null, t("auth.logged-out-expired")))
      : endNotice === "logout"
        ? notice("info", h("p", null, t("auth.logged-out")))
        : null;
  fill(
    main,
    ...pageHeading(t("auth.login-title")),
    why,
    h("p", null, t(realm === "staff" ? "auth.login-text-staff" : "auth.login-text")),
    loginButton(realm, returnTo),
  );
}

export function loginButton(realm: Realm, returnTo: string): HTMLButtonElement {
  const login = button(t(realm === "staff" ? "auth.login-staff" : "auth.login"), {
    class: "button button-primary",
    onclick: () => {
      login.disabled = true;
      startLogin(realm, returnTo).catch((error: unknown) => {
        login.disabled = false;
        login.after(problemNotice(error));
      });
    },
  });
  return login;
}

/** Why the last session ended, for pages that show it themselves (the start page). */
export function sessionEndNotice(): EndReason | null {
  return endNotice;
}
