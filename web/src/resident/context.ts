// Who the logged-in resident is (GET /v1/me) and whom they act for right now: themselves or a child under
// 13 they are guardian of. The choice lives in memory with the session.

import { api } from "../api";
import { getSession, sessionData } from "../auth";
import { h } from "../dom";
import { formatDate, t } from "../i18n";
import { sessionBarLine } from "../ui";
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

let current: string | null = null;
const me = sessionData(
  () => api<Me>("GET", "/v1/me"),
  (found) => {
    if (!found) current = null;
    else if (!current || !found.patients.some((p) => p.patient_id === current)) current = found.patient_id;
  },
);

export function onPatientChange(listener: () => void): void {
  me.onChange(listener);
}

export function loadMe(): Promise<Me> {
  return me.load();
}

/** The resident and the patient they act for now (loads /v1/me on first use). */
export async function acting(): Promise<{ me: Me; patient: Patient }> {
  const found = await loadMe();
  const patient = found.patients.find((p) => p.patient_id === current) ?? found.patients[0];
  if (!patient) throw new Error("/v1/me listed no patients");
  return { me: found, patient };
}

export function setActingFor(patientId: string): void {
  if (!me.value?.patients.some((p) => p.patient_id === patientId)) return;
  current = patientId;
  me.changed();
}

/** "Showing: Liv Demosson (change)", under the header while a resident is logged in. */
export function sessionBar(): HTMLElement | null {
  const found = me.value;
  if (getSession()?.realm !== "resident" || !found) return null;
  const patient = found.patients.find((p) => p.patient_id === current) ?? found.patients[0];
  if (!patient) return null;
  const child = patient.relation === "guardian";
  return sessionBarLine(
    found.name,
    [
      child ? t("who.acting-for-child") : t("who.acting-for"),
      " ",
      h("strong", { class: "acting-name" }, patient.name),
      child && patient.until
        ? h("span", { class: "acting-until" }, ` (${t("who.until", { date: formatDate(patient.until) })})`)
        : null,
    ],
    found.patients.length > 1 ? link("/choose-person", { class: "session-bar-link" }, t("who.change")) : null,
    child,
  );
}
