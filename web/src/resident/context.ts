// Who the logged-in resident is (GET /v1/me) and whom they act for right now: themselves or a child under
// 13 they are guardian of. The choice lives in memory with the session.

import { api } from "../api";
import { getSession, onSessionChange } from "../auth";
import { h } from "../dom";
import { formatDate, t } from "../i18n";
import { link } from "../router";

export interface Patient {
  patient_id: string;
  name: string;
  relation: "self" | "guardian";
  birth_date?: string;
  until: string | null;
}

export interface Me {
  patient_id: string;
  name: string;
  birth_date: string;
  patients: Patient[];
}

let me: Me | null = null;
let loading: Promise<Me> | null = null;
let current: string | null = null;
const listeners = new Set<() => void>();

onSessionChange(() => {
  me = null;
  loading = null;
  current = null;
});

export function onPatientChange(listener: () => void): void {
  listeners.add(listener);
}

export function loadMe(force = false): Promise<Me> {
  if (force) loading = null;
  loading ??= api<Me>("GET", "/v1/me").then((found) => {
    me = found;
    if (!current || !found.patients.some((p) => p.patient_id === current)) current = found.patient_id;
    for (const listener of listeners) listener();
    return found;
  });
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** The resident and the patient they act for now (loads /v1/me on first use). */
export async function acting(): Promise<{ me: Me; patient: Patient }> {
  const found = await loadMe();
  const patient = found.patients.find((p) => p.patient_id === current) ?? found.patients[0];
  if (!patient) throw new Error("/v1/me listed no patients");
  return { me: found, patient };
}

export function setActingFor(patientId: string): void {
  if (!me?.patients.some((p) => p.patient_id === patientId)) return;
  current = patientId;
  for (const listener of listeners) listener();
}

/** "Showing: Liv Demosson (change)", under the header while a resident is logged in. */
export function sessionBar(): HTMLElement | null {
  if (getSession()?.realm !== "resident" || !me) return null;
  const patient = me.patients.find((p) => p.patient_id === current) ?? me.patients[0];
  if (!patient) return null;
  const child = patient.relation === "guardian";
  return h(
    "div",
    { class: child ? "session-bar session-bar-child" : "session-bar" },
    h(
      "div",
      { class: "session-bar-inner" },
      h(
        "p",
        { class: "session-bar-text" },
        t("who.logged-in-as", { name: me.name }),
        " · ",
        child ? t("who.acting-for-child") : t("who.acting-for"),
        " ",
        h("strong", { class: "acting-name" }, patient.name),
        child && patient.until
          ? h("span", { class: "acting-until" }, ` (${t("who.until", { date: formatDate(patient.until) })})`)
          : null,
      ),
      me.patients.length > 1 ? link("/choose-person", { class: "session-bar-link" }, t("who.change")) : null,
    ),
  );
}
