// Who booked what on a day at the unit (GET /v1/staff/appointments?date=&booking_type=). Each patient shown
// is an access to that patient's data: the API decides it by the access policy and writes it to the audit
// log (the patient sees it in their access log).

import { api } from "../api";
import { fill, h } from "../dom";
import { scriptForm } from "../forms";
import { formatDate, formatTime, pick } from "../i18n";
import { link, navigate } from "../router";
import { notice, pageHeading, selectField, textField } from "../ui";
import { addDays, isDay, pager, staffPage, today } from "./common";
import { st } from "./texts";
import type { UnitAppointment, UnitBookingType } from "./types";

export const appointmentsPage = staffPage(async ({ main, query, signal }, { commission }) => {
  const day = isDay(query.get("date")) ? query.get("date")! : today();
  const type = query.get("type") ?? "";
  const [booked, types] = await Promise.all([
    api<{ date: string; items: UnitAppointment[]; more: boolean }>("GET", "/v1/staff/appointments", {
      query: { date: day, booking_type: type || null },
      signal,
    }),
    api<{ items: UnitBookingType[] }>("GET", "/v1/staff/booking-types", { signal }).catch(() => ({ items: [] as UnitBookingType[] })),
  ]);
  const here = (d: string): string => `/staff/appointments?date=${encodeURIComponent(d)}${type ? `&type=${encodeURIComponent(type)}` : ""}`;
  const dateField = textField({ name: "date", label: st("appts.date"), type: "date", required: true, value: day, width: "short" });
  const typeField = selectField({
    name: "type",
    label: st("appts.type"),
    value: type,
    options: [
      { value: "", label: st("appts.all-types") },
      ...types.items.filter((i) => i.settings).map((i) => ({ value: i.booking_type, label: pick(i.name) })),
    ],
  });
  const form = scriptForm(
    { class: "form-inline", role: "search", "aria-label": st("appts.show"), novalidate: true },
    () => {
      if (!isDay(dateField.input.value)) {
        dateField.setError(st("appts.date-missing"));
        dateField.input.focus();
        return;
      }
      const next = new URLSearchParams({ date: dateField.input.value });
      if (typeField.select.value) next.set("type", typeField.select.value);
      navigate(`/staff/appointments?${next.toString()}`);
    },
    dateField.element,
    typeField.element,
    h("div", { class: "field" }, h("button", { type: "submit", class: "button" }, st("appts.show"))),
  );
  const caption = st("appts.caption", { date: formatDate(booked.date) });
  fill(
    main,
    ...pageHeading(st("appts.title"), st("appts.lead", { unit: commission.care_unit_name })),
    form,
    pager(caption, link(here(addDays(day, -1)), null, st("appts.prev")), link(here(addDays(day, 1)), null, st("appts.next"))),
    h("h2", { id: "appts-title" }, caption),
    booked.items.length
      ? h(
          "ul",
          { class: "item-list", "aria-labelledby": "appts-title" },
          ...booked.items.map((a) =>
            h(
              "li",
              { class: "item" },
              h(
                "h3",
                { class: "item-title" },
                `${formatTime(a.start)}–${formatTime(a.end)} `,
                pick(a.booking_type_name) || a.booking_type,
              ),
              h(
                "p",
                { class: "meta" },
                `${st("case.patient")}: `,
                h("strong", null, a.patient_name),
                " · ",
                `${st("col.booked-by")}: `,
                a.booked_by.relation === "guardian" ? st("case.guardian", { name: a.booked_by.name }) : st("appts.self"),
                " · ",
                h("span", { class: a.status === "cancelled" ? "status-cancelled" : null }, st(`appts.status.${a.status}`)),
              ),
            ),
          ),
        )
      : h("p", null, st("appts.none")),
    booked.more ? notice("info", h("p", null, st("appts.more"))) : null,
  );
});
