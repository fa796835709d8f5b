// The residents' pages. Each page module is loaded on first use (its own chunk), so the first page loads
// only the shell and the page it shows.

import { registerSessionBar, refreshChrome } from "../layout";
import { lazyPage, type Route } from "../router";
import { onPatientChange, sessionBar } from "./context";

registerSessionBar("resident", sessionBar);
onPatientChange(refreshChrome);

const start = () => import("./start");
const care = () => import("./find-care");
const cases = () => import("./cases");
const booking = () => import("./booking");
const inbox = () => import("./inbox");
const more = () => import("./account");

export const residentRoutes: Route[] = [
  { path: "/", nav: { label: "nav.start", order: 0, realms: ["public", "resident"] }, render: lazyPage(start, "startPage") },
  { path: "/choose-person", realm: "resident", render: lazyPage(start, "choosePersonPage") },
  { path: "/inbox", realm: "resident", nav: { label: "nav.inbox", order: 10 }, render: lazyPage(inbox, "inboxPage") },
  { path: "/inbox/:messageId", realm: "resident", render: lazyPage(inbox, "messagePage") },
  { path: "/cases", realm: "resident", nav: { label: "nav.cases", order: 20 }, render: lazyPage(cases, "casesPage") },
  { path: "/cases/new", realm: "resident", render: lazyPage(cases, "newCasePage") },
  { path: "/cases/:caseId", realm: "resident", render: lazyPage(cases, "casePage") },
  {
    path: "/appointments",
    realm: "resident",
    nav: { label: "nav.appointments", order: 30 },
    render: lazyPage(booking, "appointmentsPage"),
  },
  { path: "/booking", realm: "resident", nav: { label: "nav.booking", order: 40 }, render: lazyPage(booking, "bookingPage") },
  {
    path: "/find-care",
    nav: { label: "nav.find-care", order: 50, realms: ["public", "resident"] },
    render: lazyPage(care, "findCarePage"),
  },
  { path: "/find-care/:clinicId", render: lazyPage(care, "clinicPage") },
  {
    path: "/access-log",
    realm: "resident",
    nav: { label: "nav.access-log", order: 60 },
    render: lazyPage(more, "accessLogPage"),
  },
  {
    path: "/settings",
    realm: "resident",
    nav: { label: "nav.settings", order: 70 },
    render: lazyPage(more, "settingsPage"),
  },
];
