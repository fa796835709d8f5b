// Who the logged-in staff member is (GET /v1/staff/me) and the commission (medarbetaruppdrag) they work
// under now. The chosen commission goes as X-Commission-Id on every staff request (api.setCommission); it
// lives in memory with the session, like the token. This module is part of the shell (the commission bar),
// so it stays small: the pages and their texts load with the first staff page.

import { api, setCommission } from "../api";
import { getSession, sessionData } from "../auth";
import { h } from "../dom";
import { t } from "../i18n";
import { sessionBarLine } from "../ui";
import { link } from "../router";

export interface Commission {
  id: string;
  care_unit_hsa_id: string;
  care_unit_name: string;
  care_provider_hsa_id: string;
  purpose: string;
  roles: string[];
  valid_from: string;
  valid_to: string | null;
}

export interface StaffMe {
  kind: "staff";
  hsa_id: string;
  name: string;
  title: string | null;
  commissions: Commission[];
}

let chosen: string | null = null;
const me = sessionData(
  () => api<StaffMe>("GET", "/v1/staff/me"),
  (found) => {
    if (!found || (chosen && !found.commissions.some((c) => c.id === chosen))) choose(null);
    // One active commission: nothing to choose.
    if (found && !chosen && found.commissions.length === 1) choose(found.commissions[0]?.id ?? null);
  },
);

export function onCommissionChange(listener: () => void): void {
  me.onChange(listener);
}

export function loadStaffMe(): Promise<StaffMe> {
  return me.load();
}

function choose(id: string | null): void {
  chosen = id;
  setCommission(id);
}

/** Work under this commission from now on (it must be one of the caller's active ones). */
export function chooseCommission(id: string): Commission | null {
  const commission = me.value?.commissions.find((c) => c.id === id) ?? null;
  if (commission) {
    choose(commission.id);
    me.changed();
  }
  return commission;
}

/** The staff member and the commission they work under now (null: not chosen yet). */
export async function staffContext(): Promise<{ me: StaffMe; commission: Commission | null }> {
  const found = await loadStaffMe();
  return { me: found, commission: found.commissions.find((c) => c.id === chosen) ?? null };
}

/** "Logged in as … · Commission: Clinic – purpose (switch)", under the header while staff are logged in. */
export function staffSessionBar(): HTMLElement | null {
  const found = me.value;
  if (getSession()?.realm !== "staff" || !found) return null;
  const commission = found.commissions.find((c) => c.id === chosen);
  return sessionBarLine(
    found.name,
    [
      t("staff.bar.commission"),
      " ",
      commission
        ? h("strong", { class: "commission-name" }, `${commission.care_unit_name} – ${commission.purpose}`)
        : t("staff.bar.none"),
    ],
    found.commissions.length > 1 || !commission
      ? link("/staff/commission", { class: "session-bar-link" }, t(commission ? "staff.bar.change" : "staff.bar.choose"))
      : null,
  );
}
