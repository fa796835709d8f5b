// Booking: find free times of a type (at one clinic, near a place or the device's position, or anywhere,
// from a date), book one, rebook or cancel an appointment, and see every appointment at every clinic.
// A time someone else took first (409 time-unavailable) gets a clear message and a fresh list.

import { api, ApiError, newIdempotencyKey } from "../api";
import { fill, h } from "../dom";
import { scriptForm, showInvalidParams, showNotice, showProblems, submitButton, type Problem } from "../forms";
import { formatDay, formatDateTime, formatNumber, formatTime, pick, stockholmDay, t, tc } from "../i18n";
import { link, navigate, refresh, type PageContext } from "../router";
import {
  button,
  confirmDialog,
  notice,
  pageHeading,
  problemNotice,
  problemText,
  selectField,
  setFlash,
  takeFlash,
  textField,
} from "../ui";
import { acting, type Patient } from "./context";
import { nearQuery, placesList, positionControl, type Position } from "./places";
import type { Appointment, BookableTime, BookingType, ClinicDetail, Page } from "./types";

let position: Position | null = null;
const RADIUS_KM = 50;

function appointmentsPath(patient: Patient): string {
  return `/v1/patients/${encodeURIComponent(patient.patient_id)}/appointments`;
}

export async function bookingPage({ main, query }: PageContext): Promise<void> {
  const { patient } = await acting();
  const rebookId = query.get("rebook");
  const clinicId = query.get("clinic");
  const [types, rebooking, clinic] = await Promise.all([
    api<Page<BookingType>>("GET", "/v1/booking-types"),
    rebookId ? api<Appointment>("GET", `${appointmentsPath(patient)}/${encodeURIComponent(rebookId)}`) : null,
    clinicId ? api<ClinicDetail>("GET", `/v1/clinics/${encodeURIComponent(clinicId)}`, { auth: false }).catch(() => null) : null,
  ]);
  const typeValue = rebooking?.booking_type ?? query.get("type") ?? "";
  const type = selectField({
    name: "booking_type",
    label: t("booking.type"),
    value: typeValue,
    required: true,
    options: [{ value: "", label: t("booking.type-choose") }, ...types.items.map((b) => ({ value: b.booking_type, label: pick(b.name) }))],
  });
  if (rebooking) type.select.disabled = true;
  const place = textField({
    name: "place",
    label: t("booking.place"),
    hint: t("booking.place-hint"),
    value: query.get("place") ?? "",
    list: "booking-place-names",
    autocomplete: "address-level2",
    width: "medium",
  });
  const from = textField({ name: "from", label: t("booking.from"), type: "date", value: query.get("from") ?? "", width: "short" });
  let usePosition = query.get("pos") === "1" && position !== null;
  const positionChoice = positionControl(
    () => usePosition,
    (found) => {
      position = found;
      usePosition = found !== null;
      if (found) place.input.value = "";
    },
  );
  const summary = h("div");
  const results = h("div", { class: "results", id: "times" });

  const search = async (focus: boolean): Promise<void> => {
    type.setError(null);
    place.setError(null);
    fill(summary);
    const problems: Problem[] = [];
    const bookingType = type.select.value;
    if (!bookingType) problems.push({ field: type, message: t("booking.type-missing") });
    const params: Record<string, string> = { booking_type: bookingType, patient_id: patient.patient_id, limit: "40" };
    if (clinic) params.clinic_id = clinic.id;
    if (from.input.value) params.from = from.input.value;
    const near = nearQuery(usePosition ? position : null, place.input.value, RADIUS_KM);
    if (!near) problems.push({ field: place, message: t("care.place-unknown") });
    else Object.assign(params, near);
    if (problems.length) {
      showProblems(summary, problems);
      return;
    }
    fill(results, h("p", { class: "loading", role: "status" }, t("common.loading")));
    try {
      const found = await api<Page<BookableTime>>("GET", "/v1/times", { query: params });
      renderTimes(results, found.items, patient, rebooking, () => search(false), focus);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        const fields: Record<string, typeof from> = { from, to: from };
        if (!showInvalidParams(error, summary, (name) => fields[name] ?? null)) {
          showProblems(summary, [{ field: null, message: problemText(error) }]);
        }
        fill(results);
        return;
      }
      fill(results, problemNotice(error));
    }
  };

  const form = scriptForm(
    { class: "form search-form", novalidate: true, "aria-label": t("booking.search-label") },
    () => {
      const params = new URLSearchParams();
      if (type.select.value) params.set("type", type.select.value);
      if (clinic) params.set("clinic", clinic.id);
      if (place.input.value.trim()) {
        params.set("place", place.input.value.trim());
        usePosition = false;
        positionChoice.show();
      }
      if (usePosition) params.set("pos", "1");
      if (from.input.value) params.set("from", from.input.value);
      if (rebooking) params.set("rebook", rebooking.appointment_id);
      history.pushState(null, "", `/booking?${params}`);
      void search(true);
    },
    summary,
    type.element,
    clinic
      ? h(
          "p",
          { class: "chosen-clinic" },
          t("booking.at-clinic", { clinic: clinic.name }),
          " ",
          link(`/booking${typeValue ? `?type=${encodeURIComponent(typeValue)}` : ""}`, null, t("booking.any-clinic")),
        )
      : [place.element, placesList("booking-place-names"), positionChoice.element],
    from.element,
    submitButton(t("booking.search")),
  );
  fill(
    main,
    ...pageHeading(
      rebooking ? t("booking.rebook-title") : t("booking.title"),
      rebooking
        ? t("booking.rebook-lead", { when: formatDateTime(rebooking.start), clinic: rebooking.unit_name })
        : t("booking.lead", { name: patient.name }),
    ),
    form,
    results,
  );
  positionChoice.show();
  if (type.select.value) await search(false);
}

function renderTimes(
  container: HTMLElement,
  times: BookableTime[],
  patient: Patient,
  rebooking: Appointment | null,
  again: () => Promise<void>,
  focus: boolean,
  message: HTMLElement | null = null,
): void {
  const heading = h("h2", { class: "results-title", tabindex: "-1", id: "times-title" }, tc("booking.found", times.length));
  const days = new Map<string, BookableTime[]>();
  for (const time of times) {
    const day = stockholmDay(time.start);
    days.set(day, [...(days.get(day) ?? []), time]);
  }
  fill(
    container,
    message,
    heading,
    times.length ? null : h("p", null, t("booking.none")),
    ...[...days.values()].map((dayTimes) => {
      const first = dayTimes[0]!;
      return h(
        "section",
        { class: "day", "aria-label": formatDay(first.start) },
        h("h3", { class: "day-title" }, formatDay(first.start)),
        h(
          "ul",
          { class: "time-list" },
          ...dayTimes.map((time) =>
            h(
              "li",
              { class: "time" },
              h("span", { class: "time-when" }, `${formatTime(time.start)}–${formatTime(time.end)}`),
              h(
                "span",
                { class: "time-where" },
                time.clinic.name,
                time.clinic.distance_km !== undefined ? ` · ${t("care.distance", { km: formatNumber(time.clinic.distance_km) })}` : null,
              ),
              button(rebooking ? t("booking.choose-rebook") : t("booking.book"), {
                class: "button button-secondary time-book",
                "aria-label": t("booking.book-named", { when: `${formatDay(time.start)} ${formatTime(time.start)}`, clinic: time.clinic.name }),
                onclick: () => void book(time),
              }),
            ),
          ),
        ),
      );
    }),
  );
  if (focus) (message ?? heading).focus();

  async function book(time: BookableTime): Promise<void> {
    const when = `${formatDay(time.start)} ${formatTime(time.start)}`;
    const question = rebooking
      ? t("booking.confirm-rebook", { when, clinic: time.clinic.name })
      : t("booking.confirm", { when, clinic: time.clinic.name, name: patient.name });
    if (!(await confirmDialog(question, rebooking ? t("booking.rebook-yes") : t("booking.book-yes")))) return;
    try {
      if (rebooking) {
        await api("POST", `${appointmentsPath(patient)}/${encodeURIComponent(rebooking.appointment_id)}/rebooking`, {
          body: { time_id: time.time_id },
        });
        setFlash("success", t("booking.rebooked", { when, clinic: time.clinic.name }));
      } else {
        await api("POST", appointmentsPath(patient), { body: { time_id: time.time_id }, idempotencyKey: newIdempotencyKey() });
        setFlash("success", t("booking.booked", { when, clinic: time.clinic.name, name: patient.name }));
      }
      navigate("/appointments");
    } catch (error) {
      const conflict = error instanceof ApiError && error.code === "time-unavailable";
      const box = notice(conflict ? "warning" : "error", h("p", null, problemText(error)));
      box.setAttribute("tabindex", "-1");
      box.classList.add("booking-problem");
      if (conflict) {
        // The list is out of date: fetch it again, and keep the message above it.
        await again().catch(() => undefined);
        container.prepend(box);
      } else {
        container.querySelector(".booking-problem")?.remove();
        container.prepend(box);
      }
      box.focus();
    }
  }
}

export async function appointmentsPage({ main }: PageContext): Promise<void> {
  const { patient } = await acting();
  const all = await api<{ items: Appointment[] }>("GET", appointmentsPath(patient), { query: { status: "all" } });
  const now = new Date().toISOString();
  const coming = all.items.filter((a) => a.status === "active" && a.end >= now);
  const earlier = all.items.filter((a) => !(a.status === "active" && a.end >= now)).reverse();
  const slot = h("div");
  fill(
    main,
    takeFlash(),
    ...pageHeading(t("appointments.title"), t("appointments.lead", { name: patient.name })),
    slot,
    h("p", null, link("/booking", { class: "button button-primary" }, t("appointments.book"))),
    h("h2", { id: "coming-title" }, t("appointments.coming")),
    coming.length
      ? h(
          "ul",
          { class: "item-list", "aria-labelledby": "coming-title" },
          ...coming.map((a) =>
            h(
              "li",
              { class: "item appointment" },
              h("h3", { class: "item-title" }, formatDateTime(a.start), " – ", pick(a.booking_type_name) || a.booking_type),
              h("p", { class: "meta" }, a.unit_name),
              h(
                "div",
                { class: "button-row" },
                link(`/booking?rebook=${encodeURIComponent(a.appointment_id)}&type=${encodeURIComponent(a.booking_type)}`, { class: "button button-secondary" }, t("appointments.rebook"), h("span", { class: "visually-hidden" }, ` ${formatDateTime(a.start)}`)),
                button(t("appointments.cancel"), {
                  class: "button button-warning",
                  "aria-label": t("appointments.cancel-named", { when: formatDateTime(a.start) }),
                  onclick: async () => {
                    const question = t("appointments.cancel-confirm", { when: formatDateTime(a.start), clinic: a.unit_name });
                    if (!(await confirmDialog(question, t("appointments.cancel-yes"), t("appointments.cancel-no")))) return;
                    try {
                      await api("POST", `${appointmentsPath(patient)}/${encodeURIComponent(a.appointment_id)}/cancellation`);
                      setFlash("success", t("appointments.cancelled", { when: formatDateTime(a.start) }));
                      refresh();
                    } catch (error) {
                      showNotice(slot, problemNotice(error));
                    }
                  },
                }),
              ),
            ),
          ),
        )
      : h("p", null, t("appointments.none")),
    earlier.length
      ? h(
          "section",
          { class: "section", "aria-labelledby": "earlier-title" },
          h("h2", { id: "earlier-title" }, t("appointments.earlier")),
          h(
            "ul",
            { class: "item-list" },
            ...earlier.map((a) =>
              h(
                "li",
                { class: "item" },
                h("p", null, h("strong", null, formatDateTime(a.start)), " – ", pick(a.booking_type_name) || a.booking_type, ", ", a.unit_name),
                a.status === "cancelled" ? h("p", { class: "meta status-cancelled" }, t("appointments.was-cancelled")) : null,
              ),
            ),
          ),
        )
      : null,
  );
}
