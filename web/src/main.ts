// Entry point: texts, the page shell, the routes of each area, the login callback, then the router.
// Residents' routes are in resident/routes.ts, staff routes in staff/routes.ts; each page is its own chunk.

import "./styles.css";
import { AuthError, CALLBACK_PATH, finishLogin } from "./auth";
import { fill, h } from "./dom";
import { initI18n, t } from "./i18n";
import { loginButton, mountLayout } from "./layout";
import { residentRoutes } from "./resident/routes";
import { addRoutes, renderCurrent, startRouter } from "./router";
import { staffRoutes } from "./staff/routes";
import { notice, pageHeading } from "./ui";

addRoutes([...residentRoutes, ...staffRoutes]);

async function boot(): Promise<void> {
  await initI18n();
  const root = document.getElementById("app");
  if (!root) throw new Error("index.html lacks #app");
  const main = mountLayout(root);
  startRouter(main);
  if (location.pathname === CALLBACK_PATH) {
    const params = new URLSearchParams(location.search);
    history.replaceState(null, "", "/"); // the code must not stay in the address bar or history
    try {
      const next = await finishLogin(params);
      history.replaceState(null, "", next);
    } catch (error) {
      const cancelled = error instanceof AuthError && error.code === "cancelled";
      fill(
        main,
        ...pageHeading(t(cancelled ? "auth.cancelled-title" : "auth.failed-title")),
        notice(cancelled ? "info" : "error", h("p", null, t(cancelled ? "auth.cancelled" : "auth.failed"))),
        loginButton(error instanceof AuthError ? error.realm : "resident", "/"),
      );
      return;
    }
  }
  await renderCurrent(main);
}

void boot();
