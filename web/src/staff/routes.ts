// Staff pages (SITHS login, realm "staff"). Each page module is loaded on first use (its own chunk), with
// the staff texts (staff/texts.ts); only the commission bar (staff/context.ts) is part of the shell.
// Every staff request is made under the chosen commission (X-Commission-Id, api.setCommission).

import { refreshChrome, registerSessionBar } from "../layout";
import { lazyPage, type Route } from "../router";
import { onCommissionChange, staffSessionBar } from "./context";

registerSessionBar("staff", staffSessionBar);
onCommissionChange(refreshChrome);

const commission = () => import("./commission");
const queue = () => import("./queue");
const oneCase = () => import("./case");
const times = () => import("./times");
const publish = () => import("./publish");
const appointments = () => import("./appointments");

export const staffRoutes: Route[] = [
  { path: "/staff", realm: "staff", render: lazyPage(commission, "commissionPage") },
  {
    path: "/staff/commission",
    realm: "staff",
    nav: { label: "staff.nav.commission", order: 100 },
    render: lazyPage(commission, "commissionPage"),
  },
  { path: "/staff/cases", realm: "staff", nav: { label: "staff.nav.cases", order: 110 }, render: lazyPage(queue, "queuePage") },
  { path: "/staff/cases/:patientId/:caseId", realm: "staff", render: lazyPage(oneCase, "casePage") },
  { path: "/staff/times", realm: "staff", nav: { label: "staff.nav.times", order: 120 }, render: lazyPage(times, "timesPage") },
  { path: "/staff/times/publish", realm: "staff", render: lazyPage(publish, "publishPage") },
  {
    path: "/staff/appointments",
    realm: "staff",
    nav: { label: "staff.nav.appointments", order: 130 },
    render: lazyPage(appointments, "appointmentsPage"),
  },
];
