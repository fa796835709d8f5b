// Publishing bookable times (POST /v1/staff/booking-types/{type}/times): single times on one day, or a
// recurrence (first and last day, weekdays, first and last start of each day), each with a number of places.
// Clock times are Stockholm time (the API reads a date-time without an offset so). The API's field errors
// (starts, recurrence.from, …, capacity) are shown next to the fields they name.

import { api } from "../api";
import { fill, h } from "../dom";
import { checkedForm, serverProblems, showProblems, submitButton, type Problem } from "../forms";
import { pick } from "../i18n";
import { link, navigate } from "../router";
import { choiceField, notice, pageHeading, selectField, setFlash, textField, type Field } from "../ui";
import { actionProblem, addDays, staffPage, today } from "./common";
import { st, stc } from "./texts";
import type { BookableTime, UnitBookingType } from "./types";

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

export const publishPage = staffPage(async ({ main, query, signal }, { commission }) => {
  const { items } = await api<{ items: UnitBookingType[] }>("GET", "/v1/staff/booking-types", { signal });
  const types = items.filter((i) => i.settings?.system === "built-in" && i.settings.active);
  const heading = pageHeading(st("publish.title"), st("publish.lead"));
  const back = h("p", null, link("/staff/times", null, st("publish.back")));
  if (!types.length) {
    fill(main, ...heading, notice("info", h("p", null, st("publish.no-types"))), back);
    return;
  }
  const wanted = types.find((i) => i.booking_type === query.get("type")) ?? types[0]!;
  const type = selectField({
    name: "booking_type",
    label: st("publish.type"),
    value: wanted.booking_type,
    options: types.map((i) => ({ value: i.booking_type, label: `${pick(i.name)} (${st("times.minutes", { minutes: i.duration_minutes })})` })),
  });
  const kind = choiceField({
    name: "kind",
    legend: st("publish.kind"),
    required: true,
    value: query.get("kind") === "recurring" ? "recurring" : "once",
    options: [
      { value: "once", label: st("publish.kind.once") },
      { value: "recurring", label: st("publish.kind.recurring") },
    ],
  });
  const tomorrow = addDays(today(), 1);
  const date = textField({ name: "date", label: st("publish.date"), type: "date", required: true, value: tomorrow, width: "short" });
  const clocks = textField({
    name: "times",
    label: st("publish.times"),
    hint: st("publish.times-hint"),
    required: true,
    width: "medium",
    autocomplete: "off",
  });
  const from = textField({ name: "from", label: st("publish.from"), type: "date", required: true, value: tomorrow, width: "short" });
  const to = textField({ name: "to", label: st("publish.to"), type: "date", required: true, value: addDays(tomorrow, 6), width: "short" });
  const weekdays = choiceField({
    name: "weekdays",
    legend: st("publish.weekdays"),
    multiple: true,
    required: true,
    inline: true,
    value: ["1", "2", "3", "4", "5"],
    options: [1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: String(d), label: st(`weekday.${d}` as "weekday.1") })),
  });
  const first = textField({ name: "first_start", label: st("publish.first-start"), type: "time", required: true, value: "08:00", width: "short" });
  const last = textField({ name: "last_start", label: st("publish.last-start"), type: "time", required: true, value: "11:45", width: "short" });
  const recurringHint = h("p", { class: "hint" });
  const capacity = textField({
    name: "capacity",
    label: st("publish.capacity"),
    hint: st("publish.capacity-hint"),
    type: "number",
    inputmode: "numeric",
    required: true,
    value: "1",
    width: "short",
  });
  capacity.input.setAttribute("min", "1");
  capacity.input.setAttribute("max", "1000");
  const once = h("div", { class: "publish-once" }, date.element, clocks.element);
  const recurring = h("div", { class: "publish-recurring" }, recurringHint, from.element, to.element, weekdays.element, first.element, last.element);
  const sync = (): void => {
    const isRecurring = kind.values()[0] === "recurring";
    once.hidden = isRecurring;
    recurring.hidden = !isRecurring;
    const chosen = types.find((i) => i.booking_type === type.select.value);
    fill(recurringHint, st("publish.recurring-hint", { minutes: chosen?.duration_minutes ?? 15 }));
  };
  kind.onChange(sync);
  type.select.addEventListener("change", sync);
  sync();

  const fields: Field[] = [type, kind, date, clocks, from, to, weekdays, first, last, capacity];
  const summary = h("div");
  const status = h("p", { role: "status" });
  const send = submitButton(st("publish.send"));
  const form = checkedForm(
    async () => {
      for (const field of fields) field.setError(null);
      fill(summary);
      const problems: Problem[] = [];
      const isRecurring = kind.values()[0] === "recurring";
      const places = Number(capacity.input.value);
      if (!Number.isInteger(places) || places < 1 || places > 1000) problems.push({ field: capacity, message: st("publish.capacity-bad") });
      let body: Record<string, unknown>;
      if (!isRecurring) {
        const starts = clocks.input.value.split(/[,\s]+/).map((c) => c.trim()).filter(Boolean);
        if (!date.input.value) problems.push({ field: date, message: st("publish.date-missing") });
        if (!starts.length) problems.push({ field: clocks, message: st("publish.times-missing") });
        else if (starts.some((c) => !CLOCK.test(c))) problems.push({ field: clocks, message: st("publish.times-bad") });
        body = { capacity: places, starts: starts.map((c) => `${date.input.value}T${c}`) };
      } else {
        if (!from.input.value) problems.push({ field: from, message: st("publish.from-missing") });
        if (!to.input.value) problems.push({ field: to, message: st("publish.to-missing") });
        if (!weekdays.values().length) problems.push({ field: weekdays, message: st("publish.weekdays-missing") });
        if (!CLOCK.test(first.input.value)) problems.push({ field: first, message: st("publish.first-missing") });
        if (!CLOCK.test(last.input.value)) problems.push({ field: last, message: st("publish.last-missing") });
        body = {
          capacity: places,
          recurrence: {
            from: from.input.value,
            to: to.input.value,
            weekdays: weekdays.values().map(Number),
            first_start: first.input.value,
            last_start: last.input.value,
          },
        };
      }
      if (problems.length) {
        showProblems(summary, problems);
        return;
      }
      send.disabled = true;
      fill(status, st("publish.sending"));
      const chosenType = type.select.value;
      try {
        const result = await api<{ created: number; items: BookableTime[] }>(
          "POST",
          `/v1/staff/booking-types/${encodeURIComponent(chosenType)}/times`,
          { body },
        );
        setFlash("success", stc("publish.done", result.created));
        const firstDay = isRecurring ? from.input.value : date.input.value;
        navigate(`/staff/times?type=${encodeURIComponent(chosenType)}&from=${encodeURIComponent(firstDay)}`);
      } catch (error) {
        send.disabled = false;
        fill(status);
        serverProblems(error, summary, (name) => fieldFor(name, isRecurring), (e) => actionProblem(e, commission));
      }
    },
    summary,
    type.element,
    kind.element,
    once,
    recurring,
    capacity.element,
    send,
    status,
  );

  /** The API's names (starts, starts[2], recurrence.first_start, recurrence, capacity) to our fields. */
  function fieldFor(name: string, isRecurring: boolean): Field | null {
    if (name === "capacity") return capacity;
    if (name.startsWith("starts")) return isRecurring ? from : clocks;
    if (name === "recurrence.from" || name === "recurrence") return from;
    if (name === "recurrence.to") return to;
    if (name === "recurrence.weekdays") return weekdays;
    if (name === "recurrence.first_start") return first;
    if (name === "recurrence.last_start") return last;
    return null;
  }

  fill(main, ...heading, form, back);
});
