// The unit's work queue (GET /v1/staff/cases): filters by status, answer time (overdue), assignment and case
// type, kept in the address so a filtered queue can be bookmarked and the back button works.

import { api } from "../api";
import { fill, h } from "../dom";
import { scriptForm } from "../forms";
import { formatDate, formatDateTime, pick } from "../i18n";
import { pagedList } from "../page-data";
import { link, navigate } from "../router";
import { pageHeading, selectField, takeFlash } from "../ui";
import { actionProblem, staffPage } from "./common";
import { st } from "./texts";
import { CASE_STATUSES, type Page, type QueueItem, type UnitCaseTypes } from "./types";

const PAGE_SIZE = 25;

export const queuePage = staffPage(async ({ main, query, signal }, { me, commission }) => {
  const status = query.has("status") ? (query.get("status") ?? "") : "waiting_for_staff";
  const overdue = query.get("overdue") ?? "";
  const assigned = query.get("assigned") === "me" ? "me" : "";
  const type = query.get("type") ?? "";
  const filter = {
    status: CASE_STATUSES.includes(status as never) ? status : null,
    overdue: overdue === "true" || overdue === "false" ? overdue : null,
    assignee_hsa_id: assigned === "me" ? me.hsa_id : null,
    case_type_id: type || null,
    limit: PAGE_SIZE,
  };
  const [first, types] = await Promise.all([
    api<Page<QueueItem>>("GET", "/v1/staff/cases", { query: filter, signal }),
    api<UnitCaseTypes>("GET", "/v1/staff/case-types", { signal }).catch(() => ({ configured: [] })),
  ]);
  const typeNames = new Map(types.configured.map((c) => [c.id, pick(c.name)]));
  const list = h("ul", { class: "item-list", "aria-labelledby": "queue-caption" });
  const more = h("div", { class: "more" });
  const slot = h("div");
  const show = pagedList({
    list,
    more,
    label: st("queue.more"),
    item: (item: QueueItem) => queueItem(item, me.hsa_id, typeNames),
    next: (cursor) => api<Page<QueueItem>>("GET", "/v1/staff/cases", { query: { ...filter, cursor } }),
    failed: (error) => fill(slot, actionProblem(error, commission)),
  });
  show(first);

  const statusField = selectField({
    name: "status",
    label: st("queue.status"),
    value: status,
    options: [
      ...CASE_STATUSES.map((s) => ({ value: s, label: st(`status.${s}`) })),
      { value: "", label: st("queue.all") },
    ],
  });
  /** A filter whose first choice is "all". */
  const filterField = (name: string, label: string, value: string, options: { value: string; label: string }[]) =>
    selectField({ name, label, value, options: [{ value: "", label: st("queue.all") }, ...options] });
  const overdueField = filterField("overdue", st("queue.overdue"), filter.overdue ?? "", [
    { value: "true", label: st("queue.overdue.true") },
    { value: "false", label: st("queue.overdue.false") },
  ]);
  const assignedField = filterField("assigned", st("queue.assigned"), assigned, [{ value: "me", label: st("queue.assigned.me") }]);
  const typeField = selectField({
    name: "type",
    label: st("queue.type"),
    value: type,
    options: [
      { value: "", label: st("queue.all-types") },
      ...types.configured.map((c) => ({ value: c.id, label: pick(c.name) || c.id })),
    ],
  });
  const form = scriptForm(
    { class: "filters", role: "search", "aria-labelledby": "filters-title" },
    () => {
      const next = new URLSearchParams();
      next.set("status", statusField.select.value);
      if (overdueField.select.value) next.set("overdue", overdueField.select.value);
      if (assignedField.select.value) next.set("assigned", assignedField.select.value);
      if (typeField.select.value) next.set("type", typeField.select.value);
      navigate(`/staff/cases?${next.toString()}`);
    },
    h("h2", { id: "filters-title", class: "filters-title" }, st("queue.filters")),
    h("div", { class: "filters-grid" }, statusField.element, overdueField.element, assignedField.element, typeField.element),
    h("p", null, h("button", { type: "submit", class: "button" }, st("queue.apply"))),
  );
  fill(
    main,
    takeFlash(),
    ...pageHeading(st("queue.title"), st("queue.lead", { unit: commission.care_unit_name })),
    form,
    h("h2", { id: "queue-caption" }, st("queue.caption")),
    list.children.length ? list : h("p", null, st("queue.none")),
    more,
    slot,
  );
});

function queueItem(item: QueueItem, myHsaId: string, typeNames: Map<string, string>): HTMLElement {
  const overdue = !!item.due_at && item.due_at < new Date().toISOString() && item.status === "waiting_for_staff";
  const typeName = pick(item.case_type.name) || typeNames.get(item.case_type.id) || item.case_type.id;
  const who = item.assignee_hsa_id === myHsaId ? st("queue.you") : (item.assignee_hsa_id ?? st("queue.nobody"));
  return h(
    "li",
    { class: "item" },
    h(
      "h3",
      { class: "item-title" },
      link(
        `/staff/cases/${encodeURIComponent(item.patient_id)}/${encodeURIComponent(item.case_id)}`,
        null,
        `${item.patient_name ?? st("case.patient")} – ${typeName}`,
      ),
    ),
    h(
      "p",
      { class: "meta" },
      h("span", { class: `status status-${item.status}` }, st(`status.${item.status}`)),
      " · ",
      `${st("col.received")} ${formatDateTime(item.created_at)}`,
      item.due_at && (item.status === "waiting_for_staff" || item.status === "waiting_for_resident")
        ? [" · ", `${st("col.due")} ${formatDate(item.due_at)}`]
        : null,
      overdue ? [" · ", h("strong", { class: "overdue" }, st("queue.overdue-mark"))] : null,
      " · ",
      `${st("col.assigned")}: ${who}`,
    ),
  );
}
