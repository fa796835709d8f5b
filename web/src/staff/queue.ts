// The unit's work queue (GET /v1/staff/cases): filters by status, answer time (overdue), assignment and case
// type, kept in the address so a filtered queue can be bookmarked and the back button works.

import { api } from "../api";
import { fill, h } from "../dom";
import { formatDate, formatDateTime, pick } from "../i18n";
import { link, navigate, type PageContext } from "../router";
import { button, pageHeading, selectField, takeFlash } from "../ui";
import { actionProblem, guarded, needCommission } from "./common";
import { st } from "./texts";
import { CASE_STATUSES, type Page, type QueueItem, type UnitCaseTypes } from "./types";

const PAGE_SIZE = 25;

export async function queuePage(context: PageContext): Promise<void> {
  const found = await needCommission(context);
  if (!found) return;
  const { me, commission } = found;
  const { main, query } = context;
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
  await guarded(main, commission, async () => {
    const [first, types] = await Promise.all([
      api<Page<QueueItem>>("GET", "/v1/staff/cases", { query: filter, signal: context.signal }),
      api<UnitCaseTypes>("GET", "/v1/staff/case-types", { signal: context.signal }).catch(() => ({ configured: [] })),
    ]);
    const typeNames = new Map(types.configured.map((c) => [c.id, pick(c.name)]));
    const list = h("ul", { class: "item-list", "aria-labelledby": "queue-caption" });
    const more = h("div", { class: "more" });
    const slot = h("div");
    const show = (page: Page<QueueItem>): void => {
      list.append(...page.items.map((item) => queueItem(item, me.hsa_id, typeNames)));
      const cursor = page.next_cursor;
      fill(
        more,
        cursor
          ? button(st("queue.more"), {
              class: "button button-secondary",
              onclick: async () => {
                const before = list.children.length;
                try {
                  show(await api<Page<QueueItem>>("GET", "/v1/staff/cases", { query: { ...filter, cursor } }));
                  list.children[before]?.querySelector("a")?.focus();
                } catch (error) {
                  fill(slot, actionProblem(error, commission));
                }
              },
            })
          : null,
      );
    };
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
    const overdueField = selectField({
      name: "overdue",
      label: st("queue.overdue"),
      value: filter.overdue ?? "",
      options: [
        { value: "", label: st("queue.all") },
        { value: "true", label: st("queue.overdue.true") },
        { value: "false", label: st("queue.overdue.false") },
      ],
    });
    const assignedField = selectField({
      name: "assigned",
      label: st("queue.assigned"),
      value: assigned,
      options: [
        { value: "", label: st("queue.all") },
        { value: "me", label: st("queue.assigned.me") },
      ],
    });
    const typeField = selectField({
      name: "type",
      label: st("queue.type"),
      value: type,
      options: [
        { value: "", label: st("queue.all-types") },
        ...types.configured.map((c) => ({ value: c.id, label: pick(c.name) || c.id })),
      ],
    });
    const form = h(
      "form",
      {
        class: "filters",
        role: "search",
        "aria-labelledby": "filters-title",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const next = new URLSearchParams();
          next.set("status", statusField.select.value);
          if (overdueField.select.value) next.set("overdue", overdueField.select.value);
          if (assignedField.select.value) next.set("assigned", assignedField.select.value);
          if (typeField.select.value) next.set("type", typeField.select.value);
          navigate(`/staff/cases?${next.toString()}`);
        },
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
}

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
