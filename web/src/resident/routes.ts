// The residents' pages. Each page module is loaded on first use (its own chunk), so the first page loads
// only the shell and the page it shows.

import { registerSessionBar, refreshChrome } from "../layout";
import type { PageContext, Route } from "../router";
import { onPatientChange, sessionBar } from "./context";

registerSessionBar("resident", sessionBar);
onPatientChange(refreshChrome);

/** A page function of a lazily loaded module, e.g. page(inbox, "inboxPage"). */
type PageFunction = (context: PageContext) => Promise<void> | void;

function page<K extends string, M extends Record<K, PageFunction>>(
  load: () => Promise<M>,
  name: K,
): (context: PageContext) => Promise<void> {
  return async (context) => {
    await (await load())[name](context);
  };
}

const start = () => import("./start");
const care = () => import("./find-care");
const cases = () => import("./cases");
const booking = () => import("./booking");
const inbox = () => import("./inbox");
const more = () => import("./account");

export const residentRoutes: Route[] = [
  { path: "/", nav: { label: "nav.start", order: 0, realms: ["public", "resident"] }, render: page(start, "startPage") },
  { path: "/choose-person", realm: "resident", render: page(start, "choosePersonPage") },
  { path: "/inbox", realm: "resident", nav: { label: "nav.inbox", order: 10 }, render: page(inbox, "inboxPage") },
  { path: "/inbox/:messageId", realm: "resident", render: page(inbox, "messagePage") },
  { path: "/cases", realm: "resident", nav: { label: "nav.cases", order: 20 }, render: page(cases, "casesPage") },
  { path: "/cases/new", realm: "resident", render: page(cases, "newCasePage") },
  { path: "/cases/:caseId", realm: "resident", render: page(cases, "casePage") },
  {
    path: "/appointments",
    realm: "resident",
    nav: { label: "nav.appointments", order: 30 },
    render: page(booking, "appointmentsPage"),
  },
  { path: "/booking", realm: "resident", nav: { label: "nav.booking", order: 40 }, render: page(booking, "bookingPage") },
  {
    path: "/find-care",
    nav: { label: "nav.find-care", order: 50, realms: ["public", "resident"] },
    render: page(care, "findCarePage"),
  },
  { path: "/find-care/:clinicId", render: page(care, "clinicPage") },
  {
    path: "/access-log",
    realm: "resident",
    nav: { label: "nav.access-log", order: 60 },
    render: page(more, "accessLogPage"),
  },
  {
    path: "/settings",
    realm: "resident",
    nav: { label: "nav.settings", order: 70 },
    render: page(more, "settingsPage"),
  },
];
