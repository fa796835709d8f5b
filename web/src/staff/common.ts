// What the staff pages share: the commission a page works under (or the chooser when none is chosen), the
// clear page shown on 403 (the commission lacks the purpose or role), and Stockholm calendar days.

import { ApiError } from "../api";
import { fill, h, type Child } from "../dom";
import { checkedForm, showProblems, submitButton } from "../forms";
import { stockholmDay } from "../i18n";
import { link, navigate, type PageContext } from "../router";
import { choiceField, notice, pageHeading, problemNotice, problemText, setFlash, takeFlash } from "../ui";
import { chooseCommission, staffContext, type Commission, type StaffMe } from "./context";
import "./staff.css";
import { st, type StaffKey } from "./texts";

/** Who works, and under which commission. */
export interface StaffWork {
  me: StaffMe;
  commission: Commission;
}

/** A staff page: without a chosen commission it shows the chooser (coming back here), and a 403 (the
 *  commission does not allow what the page reads) becomes a page that says so. */
export function staffPage(
  render: (context: PageContext, work: StaffWork) => Promise<void>,
): (context: PageContext) => Promise<void> {
  return async (context) => {
    const { me, commission } = await staffContext();
    if (!commission) {
      renderChooser(context.main, me, null, location.pathname + location.search);
      return;
    }
    await guarded(context.main, commission, () => render(context, { me, commission }));
  };
}

function commissionLabel(c: Commission): string {
  return st("commission.option", { unit: c.care_unit_name, purpose: c.purpose });
}

function rolesText(c: Commission): string {
  if (!c.roles.length) return st("commission.no-roles");
  return st("commission.roles", { roles: c.roles.map(roleName).join(", ") });
}

const ROLE_KEYS = { "role.block-guardians": 1, "role.local-administrator": 1 };

/** A role in the staff's words where we have them, else as the API names it. */
function roleName(role: string): string {
  return `role.${role}` in ROLE_KEYS ? st(`role.${role}` as StaffKey) : role;
}

/** The commission chooser: the caller's active commissions as radio buttons; `next` is where to go on. */
export function renderChooser(main: HTMLElement, me: StaffMe, current: Commission | null, next: string): void {
  const lead = st("commission.lead", { name: me.title ? `${me.name} (${me.title})` : me.name });
  if (!me.commissions.length) {
    fill(main, ...pageHeading(st("commission.title"), lead), notice("warning", h("p", null, st("commission.none"))));
    return;
  }
  const choice = choiceField({
    name: "commission",
    legend: st("commission.legend"),
    required: true,
    value: current?.id ?? null,
    options: me.commissions.map((c) => ({ value: c.id, label: commissionLabel(c), hint: `${rolesText(c)} · ${c.id}` })),
  });
  const summary = h("div");
  fill(
    main,
    takeFlash(),
    ...pageHeading(st("commission.title"), lead),
    current ? null : notice("info", h("p", null, st("commission.required"))),
    checkedForm(
      () => {
        const id = choice.values()[0];
        const chosen = id ? chooseCommission(id) : null;
        if (!chosen) {
          showProblems(summary, [{ field: choice, message: st("commission.choose-error") }]);
          return;
        }
        setFlash("success", st("commission.chosen", { unit: chosen.care_unit_name, purpose: chosen.purpose }));
        navigate(next);
      },
      summary,
      choice.element,
      submitButton(st("commission.use")),
    ),
  );
}

/** Runs a page's loading; a 403 (the commission does not allow it) becomes a page that says so. */
async function guarded(main: HTMLElement, commission: Commission, render: () => Promise<void>): Promise<void> {
  try {
    await render();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      fill(main, ...pageHeading(st("forbidden.title")), forbiddenNotice(error, commission));
      return;
    }
    throw error;
  }
}

/** "The commission X – purpose does not allow this. It needs the role …. Switch commission". */
export function forbiddenNotice(error: ApiError, commission: Commission | null): HTMLElement {
  const detail = error.detail ?? "";
  const role = /needs the role (\S+)/.exec(detail)?.[1];
  const purpose = /with purpose (.+)$/.exec(detail)?.[1];
  const why = role
    ? st("forbidden.role", { role: roleName(role) })
    : purpose
      ? st("forbidden.purpose", { purpose })
      : /not active|no such commission/i.test(detail)
        ? st("forbidden.inactive")
        : null;
  return notice(
    "error",
    h(
      "p",
      null,
      commission
        ? st("forbidden.text", { unit: commission.care_unit_name, purpose: commission.purpose })
        : problemText(error),
      why ? ` ${why}` : null,
    ),
    h("p", null, link("/staff/commission", null, st("forbidden.switch"))),
  );
}

/** The message for a failed action or form: 403 and the staff-specific conflicts in the staff's words (for a
 *  form, pass it to forms.serverProblems, which marks the fields a 400 names). */
export function actionProblem(error: unknown, commission: Commission): HTMLElement {
  if (error instanceof ApiError) {
    if (error.status === 403) return forbiddenNotice(error, commission);
    if (error.code === "case-not-open") return notice("error", h("p", null, st("problem.case-not-open")));
    if (error.status === 404) return notice("error", h("p", null, st("problem.not-found")));
    if (error.status === 409 && error.code === "conflict" && error.detail) {
      return notice("error", h("p", null, st("problem.conflict", { detail: error.detail })));
    }
  }
  return problemNotice(error);
}

// ---- days (Stockholm calendar) -------------------------------------------------------------------------------

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function today(): string {
  return stockholmDay(new Date().toISOString());
}

export function isDay(value: string | null | undefined): value is string {
  return !!value && DAY.test(value) && !Number.isNaN(Date.parse(`${value}T12:00:00Z`));
}

export function addDays(day: string, days: number): string {
  const at = new Date(`${day}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/** A list of links as a small navigation ("previous week · next week"). */
export function pager(label: string, ...links: Child[]): HTMLElement {
  return h("nav", { class: "pager", "aria-label": label }, h("ul", { class: "pager-list" }, ...links.map((l) => h("li", null, l))));
}
