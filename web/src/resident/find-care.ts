// Find care: the public directory (GET /v1/clinics), by name, kind and place, nearest first from a typed
// town or the device's position; and one clinic's page with its address, phone, opening hours and e-services.

import { api } from "../api";
import { append, fill, h, type Child } from "../dom";
import { scriptForm, showInvalidParams, showProblems, submitButton } from "../forms";
import { formatNumber, t, type Key } from "../i18n";
import { orMissing } from "../page-data";
import { link, type PageContext } from "../router";
import { button, facts, notice, pageHeading, problemNotice, selectField, textField, type Field } from "../ui";
import { nearQuery, placesList, positionControl, type Position } from "./places";
import type { Clinic, ClinicDetail, Page } from "./types";

export const KINDS = [
  "primary_care",
  "specialist_care",
  "dental_care",
  "vaccination_centre",
  "child_health",
  "maternity_care",
  "youth_clinic",
  "psychiatry",
  "rehabilitation",
  "emergency_care",
] as const;

export function kindText(kind: string): string {
  return (KINDS as readonly string[]).includes(kind) ? t(`kind.${kind}` as Key) : kind;
}

/** The device position the user chose to share, in memory for this page view only (never in the URL). */
let position: Position | null = null;
const RADIUS_KM = 30;

interface Criteria {
  q: string;
  place: string;
  kind: string;
  usePosition: boolean;
}

/** The search form's fields (shared by find care and choosing a clinic for a case). */
function criteriaFields(criteria: Criteria, withKind: boolean) {
  const q = textField({ name: "q", label: t("care.q"), hint: t("care.q-hint"), value: criteria.q, width: "medium" });
  const place = textField({
    name: "place",
    label: t("care.place"),
    hint: t("care.place-hint"),
    value: criteria.place,
    list: "place-names",
    autocomplete: "address-level2",
    width: "medium",
  });
  const kind = withKind
    ? selectField({
        name: "kind",
        label: t("care.kind"),
        value: criteria.kind,
        options: [{ value: "", label: t("care.kind-any") }, ...KINDS.map((k) => ({ value: k, label: kindText(k) }))],
      })
    : null;
  return { q, place, kind };
}

/** The directory query of the criteria; null when the typed place is not one we know. */
function searchQuery(criteria: Criteria): Record<string, string> | null {
  const near = nearQuery(criteria.usePosition ? position : null, criteria.place, RADIUS_KM);
  if (!near) return null;
  const query: Record<string, string> = { limit: "20" };
  if (criteria.q.trim()) query.q = criteria.q.trim();
  if (criteria.kind) query.kind = criteria.kind;
  return Object.assign(query, near);
}

/** The place field says it does not know the typed place, in the summary in `slot` too. */
function unknownPlace(slot: HTMLElement, place: Field): void {
  showProblems(slot, [{ field: place, message: t("care.place-unknown") }]);
}

export async function findCarePage({ main, query }: PageContext): Promise<void> {
  const criteria: Criteria = {
    q: query.get("q") ?? "",
    place: query.get("place") ?? "",
    kind: query.get("kind") ?? "",
    usePosition: query.get("pos") === "1" && position !== null,
  };
  const fields = criteriaFields(criteria, true);
  const results = h("div", { class: "results" });
  const summarySlot = h("div");
  const positionChoice = positionControl(
    () => criteria.usePosition,
    (found) => {
      position = found;
      criteria.usePosition = found !== null;
      if (found) fields.place.input.value = "";
    },
  );
  const form = scriptForm(
    { class: "form search-form", role: "search", "aria-label": t("care.search-label"), novalidate: true },
    () => {
      criteria.q = fields.q.input.value;
      criteria.place = fields.place.input.value;
      criteria.kind = fields.kind?.select.value ?? "";
      if (criteria.place.trim()) criteria.usePosition = false;
      const params = new URLSearchParams();
      if (criteria.q.trim()) params.set("q", criteria.q.trim());
      if (criteria.place.trim()) params.set("place", criteria.place.trim());
      if (criteria.kind) params.set("kind", criteria.kind);
      if (criteria.usePosition) params.set("pos", "1");
      history.pushState(null, "", `/find-care${params.size ? `?${params}` : ""}`);
      void search(true);
    },
    summarySlot,
    fields.q.element,
    fields.place.element,
    placesList("place-names"),
    positionChoice.element,
    fields.kind?.element,
    submitButton(t("care.search")),
  );

  async function search(focusResults: boolean): Promise<void> {
    fields.place.setError(null);
    fill(summarySlot);
    const params = searchQuery(criteria);
    if (!params) {
      unknownPlace(summarySlot, fields.place);
      fill(results);
      return;
    }
    fill(results, h("p", { role: "status", class: "loading" }, t("common.loading")));
    try {
      await renderResults(results, params, null, focusResults, (clinic) =>
        h(
          "p",
          { class: "result-actions" },
          link(`/find-care/${encodeURIComponent(clinic.id)}`, null, t("care.about", { name: clinic.name })),
        ),
      );
    } catch (error) {
      fill(results, apiFieldProblem(error, { q: fields.q, kind: fields.kind }, summarySlot));
    }
  }

  fill(main, ...pageHeading(t("care.title"), t("care.lead")), form, results);
  positionChoice.show();
  if (query.size) await search(false);
}

/** Map a 400's invalid_params onto the fields; anything else is a notice. */
function apiFieldProblem(error: unknown, fields: Record<string, Field | null>, summarySlot: HTMLElement): Child {
  return showInvalidParams(error, summarySlot, (name) => fields[name] ?? null) ? null : problemNotice(error);
}

/** Search and list clinics into `container`, with "show more" following next_cursor. */
export async function renderResults(
  container: HTMLElement,
  query: Record<string, string>,
  cursor: string | null,
  focus: boolean,
  actions: (clinic: Clinic) => Child,
): Promise<void> {
  const page = await api<Page<Clinic>>("GET", "/v1/clinics", { query: { ...query, cursor }, auth: false });
  let list = container.querySelector<HTMLUListElement>("ul.result-list");
  let count = container.querySelector<HTMLElement>(".results-title");
  if (!cursor || !list || !count) {
    count = h("h2", { class: "results-title", tabindex: "-1", id: "results-title" });
    list = h("ul", { class: "result-list", "aria-labelledby": "results-title" });
    fill(container, count, list);
  }
  const first = page.items.map((clinic) =>
    h(
      "li",
      { class: "result" },
      h("h3", { class: "result-title" }, clinic.name),
      h(
        "p",
        { class: "meta" },
        kindText(clinic.kind),
        " · ",
        clinic.municipality.name,
        clinic.distance_km !== undefined ? ` · ${t("care.distance", { km: formatNumber(clinic.distance_km) })}` : null,
      ),
      actions(clinic),
    ),
  );
  append(list, first);
  const shown = list.children.length;
  count.textContent = shown ? t("care.results", { count: shown }) : t("care.no-results");
  container.querySelector(".more")?.remove();
  if (page.next_cursor) {
    const next = page.next_cursor;
    const more = button(t("common.show-more"), {
      class: "button button-secondary more",
      onclick: async () => {
        more.disabled = true;
        const before = list.children.length;
        await renderResults(container, query, next, false, actions).catch((error: unknown) => {
          more.disabled = false;
          more.after(problemNotice(error));
        });
        list.children[before]?.querySelector<HTMLElement>("a, button")?.focus();
      },
    });
    container.append(more);
  }
  if (focus) count.focus();
}

/** Choose a clinic (for a new case): a small search whose results have a "choose" button. */
export function clinicPicker(onChoose: (clinic: Clinic) => void): HTMLElement {
  const criteria: Criteria = { q: "", place: "", kind: "", usePosition: false };
  const fields = criteriaFields(criteria, false);
  const results = h("div", { class: "results" });
  const summarySlot = h("div");
  return h(
    "div",
    { class: "clinic-picker" },
    scriptForm(
      { class: "form search-form", role: "search", "aria-label": t("care.search-label"), novalidate: true },
      async () => {
        criteria.q = fields.q.input.value;
        criteria.place = fields.place.input.value;
        fields.place.setError(null);
        fill(summarySlot);
        const query = searchQuery(criteria);
        if (!query) {
          unknownPlace(summarySlot, fields.place);
          return;
        }
        fill(results, h("p", { role: "status", class: "loading" }, t("common.loading")));
        await renderResults(results, query, null, true, (clinic) =>
          h(
            "p",
            { class: "result-actions" },
            button(t("cases.choose-clinic-button"), {
              class: "button button-secondary",
              "aria-label": t("cases.choose-clinic-named", { name: clinic.name }),
              onclick: () => onChoose(clinic),
            }),
          ),
        ).catch((error: unknown) => fill(results, apiFieldProblem(error, { q: fields.q }, summarySlot)));
      },
      summarySlot,
      fields.q.element,
      fields.place.element,
      placesList("picker-place-names"),
      submitButton(t("care.search")),
    ),
    results,
  );
}

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

export async function clinicPage({ main, params }: PageContext): Promise<void> {
  const request = api<ClinicDetail>("GET", `/v1/clinics/${encodeURIComponent(params.clinicId ?? "")}`, { auth: false });
  const clinic = await orMissing(request, main, () => [
    ...pageHeading(t("care.clinic-missing")),
    notice("info", h("p", null, t("care.clinic-missing-text"))),
    link("/find-care", null, t("care.back")),
  ]);
  if (!clinic) return;
  const address = clinic.address;
  const hours = DAYS.map((day) => ({ day, hours: clinic.opening_hours?.filter((o) => o.day === day) ?? [] }));
  fill(
    main,
    ...pageHeading(clinic.name, kindText(clinic.kind), " · ", clinic.care_provider.name),
    clinic.active ? null : notice("warning", h("p", null, t("care.inactive"))),
    facts([
      [t("care.address"), address ? [address.street ?? "", h("br"), `${address.postal_code ?? ""} ${address.city ?? ""}`] : "–"],
      [t("care.phone"), clinic.phone ? h("a", { href: `tel:${clinic.phone.replace(/[^\d+]/g, "")}` }, clinic.phone) : "–"],
      [t("care.region"), `${clinic.region.name}, ${clinic.municipality.name}`],
    ]),
    h(
      "section",
      { class: "section", "aria-labelledby": "hours-title" },
      h("h2", { id: "hours-title" }, t("care.hours")),
      h(
        "table",
        { class: "table" },
        h("caption", { class: "visually-hidden" }, t("care.hours")),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t("care.day")), h("th", { scope: "col" }, t("care.open")))),
        h(
          "tbody",
          null,
          ...hours.map(({ day, hours: open }) =>
            h(
              "tr",
              null,
              h("th", { scope: "row" }, t(`day.${day}` as Key)),
              h("td", null, open.length ? open.map((o) => `${o.opens}–${o.closes}`).join(", ") : t("care.closed")),
            ),
          ),
        ),
      ),
      clinic.opening_hours_note ? h("p", null, clinic.opening_hours_note) : null,
    ),
    h(
      "section",
      { class: "section", "aria-labelledby": "services-title" },
      h("h2", { id: "services-title" }, t("care.services")),
      h(
        "ul",
        { class: "shortcut-list" },
        h("li", null, link(`/cases/new?clinic=${encodeURIComponent(clinic.id)}`, { class: "shortcut" }, t("care.write"))),
        h("li", null, link(`/booking?clinic=${encodeURIComponent(clinic.id)}`, { class: "shortcut" }, t("care.book"))),
      ),
    ),
    h("p", null, link("/find-care", null, t("care.back"))),
  );
}
