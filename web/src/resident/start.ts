// The start page (what is new: unread messages, coming visits, open cases) and choosing whom to act for.

import { api } from "../api";
import { getSession } from "../auth";
import { fill, h, type Child } from "../dom";
import { formatDateTime, pick, t, tc, type Key } from "../i18n";
import { loginButton, sessionEndNotice } from "../layout";
import { link, navigate, type PageContext } from "../router";
import { button, notice, pageHeading, problemNotice } from "../ui";
import { acting, setActingFor, type Patient } from "./context";
import type { Appointment, CaseSummary, MessageSummary, Page } from "./types";
import { OPEN_STATUSES, statusText } from "./types";

export async function startPage({ main }: PageContext): Promise<void> {
  if (getSession()?.realm !== "resident") {
    renderWelcome(main);
    return;
  }
  const { me, patient } = await acting();
  const base = `/v1/patients/${encodeURIComponent(patient.patient_id)}`;
  const [inbox, appointments, cases] = await Promise.allSettled([
    api<Page<MessageSummary>>("GET", `${base}/inbox`, { query: { order: "unread-first", limit: 20 } }),
    api<{ items: Appointment[] }>("GET", `${base}/appointments`),
    api<Page<CaseSummary>>("GET", `${base}/cases`, { query: { limit: 50 } }),
  ]);
  const child = patient.relation === "guardian";
  const children = me.patients.filter((p) => p.patient_id !== patient.patient_id);
  fill(
    main,
    ...pageHeading(
      child ? t("start.title-child", { name: patient.name }) : t("start.title", { name: me.name }),
      child ? t("start.lead-child") : t("start.lead"),
    ),
    h(
      "div",
      { class: "cards" },
      section(t("start.unread"), inbox, (page) =>
        firstThree(
          page.items.filter((m) => !m.read),
          "start.unread-count",
          (m) => [link(`/inbox/${m.message_id}`, null, m.subject), h("span", { class: "meta" }, ` – ${m.sender.care_unit_name}`)],
          link("/inbox", { class: "card-link" }, t("start.to-inbox")),
        ),
      ),
      section(t("start.upcoming"), appointments, (page) =>
        firstThree(
          page.items.filter((a) => a.status === "active" && a.end >= new Date().toISOString()),
          "start.upcoming-count",
          (a) => [h("strong", null, formatDateTime(a.start)), " ", pick(a.booking_type_name), ", ", a.unit_name],
          link("/appointments", { class: "card-link" }, t("start.to-appointments")),
        ),
      ),
      section(t("start.open-cases"), cases, (page) =>
        firstThree(
          page.items.filter((c) => OPEN_STATUSES.includes(c.status)),
          "start.open-cases-count",
          (c) => [link(`/cases/${c.case_id}`, null, pick(c.case_type.name)), h("span", { class: "meta" }, ` – ${statusText(c.status)}`)],
          link("/cases", { class: "card-link" }, t("start.to-cases")),
        ),
      ),
    ),
    h(
      "section",
      { class: "section", "aria-labelledby": "shortcuts" },
      h("h2", { id: "shortcuts" }, t("start.shortcuts")),
      h(
        "ul",
        { class: "shortcut-list" },
        h("li", null, link("/cases/new", { class: "shortcut" }, t("start.new-case"))),
        h("li", null, link("/booking", { class: "shortcut" }, t("start.book"))),
        h("li", null, link("/find-care", { class: "shortcut" }, t("start.find-care"))),
      ),
    ),
    children.length
      ? h(
          "section",
          { class: "section", "aria-labelledby": "others" },
          h("h2", { id: "others" }, child ? t("start.switch-back") : t("start.children")),
          personButtons(children),
        )
      : null,
  );
}

function section<T>(title: string, result: PromiseSettledResult<T>, render: (value: T) => Child): HTMLElement {
  const id = `card-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("h2", { id, class: "card-title" }, title),
    result.status === "fulfilled" ? render(result.value) : problemNotice(result.reason),
  );
}

/** A card's body: how many there are, the first three of them, and the link to them all. */
function firstThree<T>(items: T[], count: Key, item: (value: T) => Child[], all: HTMLElement): Child[] {
  return [
    h("p", { class: "count" }, tc(count, items.length)),
    items.length ? h("ul", { class: "plain-list" }, ...items.slice(0, 3).map((value) => h("li", null, ...item(value)))) : null,
    all,
  ];
}

function personButtons(people: Patient[]): HTMLElement {
  return h(
    "ul",
    { class: "person-list" },
    ...people.map((person) =>
      h(
        "li",
        null,
        button(
          person.relation === "self" ? t("who.act-for-self", { name: person.name }) : t("who.act-for", { name: person.name }),
          {
            class: "button button-secondary",
            onclick: () => {
              setActingFor(person.patient_id);
              navigate("/");
            },
          },
        ),
      ),
    ),
  );
}

function renderWelcome(main: HTMLElement): void {
  const ended = sessionEndNotice();
  fill(
    main,
    ...pageHeading(t("welcome.title"), t("welcome.lead")),
    ended === "logout" ? notice("success", h("p", null, t("auth.logged-out"))) : null,
    ended === "expired" || ended === "rejected" ? notice("warning", h("p", null, t("auth.logged-out-expired"))) : null,
    h(
      "div",
      { class: "cards" },
      h(
        "section",
        { class: "card", "aria-labelledby": "login-title" },
        h("h2", { id: "login-title", class: "card-title" }, t("welcome.login-title")),
        h("p", null, t("welcome.login-text")),
        loginButton("resident", "/"),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "care-title" },
        h("h2", { id: "care-title", class: "card-title" }, t("welcome.care-title")),
        h("p", null, t("welcome.care-text")),
        link("/find-care", { class: "card-link" }, t("start.find-care")),
      ),
    ),
    notice("info", h("p", null, t("welcome.urgent"))),
  );
}

export async function choosePersonPage({ main }: PageContext): Promise<void> {
  const { me, patient } = await acting();
  fill(
    main,
    ...pageHeading(t("who.choose-title"), t("who.choose-lead")),
    h(
      "ul",
      { class: "person-list" },
      ...me.patients.map((person) =>
        h(
          "li",
          null,
          button(person.name, {
            class: person.patient_id === patient.patient_id ? "button" : "button button-secondary",
            "aria-pressed": person.patient_id === patient.patient_id ? "true" : "false",
            onclick: () => {
              setActingFor(person.patient_id);
              navigate("/");
            },
          }),
          person.relation === "guardian" && person.until
            ? h("p", { class: "hint" }, t("who.until-long", { date: formatDateTime(person.until) }))
            : null,
        ),
      ),
    ),
  );
}
