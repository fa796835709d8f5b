// The unit's bookable times: its booking types (GET /v1/staff/booking-types), a week's times of one type
// (GET /v1/staff/booking-types/{type}/times?from&to) with how many places are booked, and closing or
// reopening a time (POST /v1/staff/times/{timeId}/closure | /opening). Publishing is on its own page.

import { api } from "../api";
import { fill, h } from "../dom";
import { scriptForm } from "../forms";
import { formatDate, formatDay, formatTime, pick, stockholmDay } from "../i18n";
import { link, navigate } from "../router";
import { button, notice, pageHeading, selectField, takeFlash, textField, visuallyHidden } from "../ui";
import { actionProblem, addDays, isDay, pager, staffPage, today } from "./common";
import type { Commission } from "./context";
import { st } from "./texts";
import type { BookableTime, BookingSettings, UnitBookingType } from "./types";

const WEEK = 7;

export const timesPage = staffPage(async ({ main, query, signal }, { commission }) => {
  const { items } = await api<{ items: UnitBookingType[] }>("GET", "/v1/staff/booking-types", { signal });
  const setUp = items.filter((i) => i.settings);
  const heading = pageHeading(st("times.title"), st("times.lead", { unit: commission.care_unit_name }));
  if (!setUp.length) {
    fill(main, ...heading, notice("info", h("p", null, st("times.not-set-up"))));
    return;
  }
  const chosen = setUp.find((i) => i.booking_type === query.get("type")) ?? setUp.find((i) => i.settings?.system === "built-in") ?? setUp[0]!;
  const from = isDay(query.get("from")) ? query.get("from")! : today();
  const to = addDays(from, WEEK - 1);
  const builtIn = chosen.settings?.system === "built-in";
  const times = builtIn
    ? (
        await api<{ items: BookableTime[] }>("GET", `/v1/staff/booking-types/${encodeURIComponent(chosen.booking_type)}/times`, {
          query: { from, to },
          signal,
        })
      ).items
    : [];
  const here = (day: string): string =>
    `/staff/times?type=${encodeURIComponent(chosen.booking_type)}&from=${encodeURIComponent(day)}`;
  fill(
    main,
    takeFlash(),
    ...heading,
    typesSection(setUp),
    h("h2", { id: "times-title" }, st("times.choose")),
    chooser(setUp, chosen, from),
    builtIn
      ? h(
          "p",
          null,
          link(`/staff/times/publish?type=${encodeURIComponent(chosen.booking_type)}`, { class: "button button-primary" }, st("times.publish")),
        )
      : notice("info", h("p", null, st("times.external"))),
    builtIn
      ? [
          h("h3", { id: "week-title" }, `${pick(chosen.name)}: ${st("times.week", { from: formatDate(from), to: formatDate(to) })}`),
          pager(
            st("times.week", { from: formatDate(from), to: formatDate(to) }),
            link(here(addDays(from, -WEEK)), null, st("times.prev")),
            link(here(addDays(from, WEEK)), null, st("times.next")),
          ),
          timeList(times, commission),
        ]
      : null,
  );
});

function typesSection(types: UnitBookingType[]): HTMLElement {
  return h(
    "section",
    { class: "section", "aria-labelledby": "types-title" },
    h("h2", { id: "types-title" }, st("times.types")),
    h(
      "ul",
      { class: "item-list" },
      ...types.map((type) => {
        const s = type.settings as BookingSettings;
        return h(
          "li",
          { class: "item" },
          h("h3", { class: "item-title" }, pick(type.name), s.active ? null : ` (${st("times.inactive")})`),
          h(
            "p",
            { class: "meta" },
            st("times.minutes", { minutes: type.duration_minutes }),
            " · ",
            st(s.system === "external" ? "times.system.external" : "times.system.built-in"),
            " · ",
            `${st("col.web")}: ${webRules(s)}`,
            " · ",
            `${st("col.eligibility")}: ${eligibility(s)}`,
          ),
        );
      }),
    ),
  );
}

function webRules(s: BookingSettings): string {
  const allowed = (["book", "rebook", "cancel"] as const).filter((k) => s.web[k]).map((k) => st(`times.web.${k}`));
  return allowed.length ? allowed.join(", ") : st("times.web.nothing");
}

function eligibility(s: BookingSettings): string {
  const parts: string[] = [];
  if (s.eligibility.min_age !== null) parts.push(st("times.age-from", { age: s.eligibility.min_age }));
  if (s.eligibility.max_age !== null) parts.push(st("times.age-to", { age: s.eligibility.max_age }));
  if (s.eligibility.regions.length) parts.push(st("times.regions", { regions: s.eligibility.regions.join(", ") }));
  return parts.length ? parts.join(", ") : st("times.everyone");
}

function chooser(types: UnitBookingType[], chosen: UnitBookingType, from: string): HTMLElement {
  const type = selectField({
    name: "type",
    label: st("times.type"),
    value: chosen.booking_type,
    options: types.map((t) => ({ value: t.booking_type, label: pick(t.name) })),
  });
  const day = textField({ name: "from", label: st("times.from"), type: "date", value: from, required: true, width: "short" });
  return scriptForm(
    { class: "form-inline", "aria-labelledby": "times-title" },
    () => {
      const value = isDay(day.input.value) ? day.input.value : today();
      navigate(`/staff/times?type=${encodeURIComponent(type.select.value)}&from=${encodeURIComponent(value)}`);
    },
    type.element,
    day.element,
    h("div", { class: "field" }, h("button", { type: "submit", class: "button" }, st("times.show"))),
  );
}

function timeList(times: BookableTime[], commission: Commission): HTMLElement {
  const status = h("div", { role: "status", class: "visually-hidden" });
  const problems = h("div");
  if (!times.length) return h("p", null, st("times.none"));
  const days = new Map<string, BookableTime[]>();
  for (const time of times) {
    const day = stockholmDay(time.start);
    days.set(day, [...(days.get(day) ?? []), time]);
  }
  return h(
    "div",
    null,
    status,
    problems,
    ...[...days.entries()].map(([day, list]) =>
      h(
        "section",
        { class: "section", "aria-labelledby": `day-${day}` },
        h("h4", { id: `day-${day}`, class: "day-title" }, formatDay(list[0]!.start)),
        h("ul", { class: "time-list" }, ...list.map((time) => timeRow(time, commission, status, problems))),
      ),
    ),
  );
}

function timeRow(time: BookableTime, commission: Commission, status: HTMLElement, problems: HTMLElement): HTMLElement {
  const when = `${formatTime(time.start)}–${formatTime(time.end)}`;
  const whenLong = `${formatTime(time.start)} ${formatDay(time.start)}`;
  const state = h("span", null);
  const label = h("span", null);
  const row = h("li", { class: "time" });
  let open = time.open;
  const show = (): void => {
    row.classList.toggle("time-closed", !open);
    fill(state, st(open ? "times.open" : "times.closed"));
    fill(label, st(open ? "times.close" : "times.reopen"), visuallyHidden(` ${st("times.the-time", { when: whenLong })}`));
  };
  const toggle = button("", {
    class: "button button-secondary time-book",
    onclick: async () => {
      toggle.disabled = true;
      fill(problems);
      try {
        const changed = await api<BookableTime>("POST", `/v1/staff/times/${encodeURIComponent(time.time_id)}/${open ? "closure" : "opening"}`);
        open = changed.open;
        show();
        fill(status, st(open ? "times.opened-done" : "times.closed-done", { when: whenLong }));
      } catch (error) {
        fill(problems, actionProblem(error, commission));
      } finally {
        toggle.disabled = false;
        toggle.focus();
      }
    },
  });
  toggle.replaceChildren(label);
  show();
  row.append(
    h("span", { class: "time-when" }, when),
    h("span", { class: "time-where" }, st("times.booked", { booked: time.booked, capacity: time.capacity }), " · ", state),
    toggle,
  );
  return row;
}
