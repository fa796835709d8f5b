// Choosing the commission (medarbetaruppdrag) to work under: GET /v1/staff/me lists the active ones; the
// chosen one is sent as X-Commission-Id on every following request. Switching is choosing again.

import type { PageContext } from "../router";
import { renderChooser } from "./common";
import { staffContext } from "./context";

export async function commissionPage({ main, query }: PageContext): Promise<void> {
  const { me, commission } = await staffContext();
  const next = query.get("next");
  renderChooser(main, me, commission, next && next.startsWith("/staff/") ? next : "/staff/cases");
}
