// The access log (which staff read or changed the patient's data, where and why) and the notification
// settings (e-mail and mobile number, each verified with a six-digit code; which events notify).

import { api, ApiError } from "../api";
import { fill, h } from "../dom";
import { checkedForm, showInvalidParams, showProblems, submitButton } from "../forms";
import { formatDateTime, t, type Key } from "../i18n";
import { pagedList } from "../page-data";
import { refresh, type PageContext } from "../router";
import {
  choiceField,
  notice,
  pageHeading,
  problemNotice,
  problemText,
  setFlash,
  takeFlash,
  textField,
  type Field,
  type TextField,
} from "../ui";
import { acting } from "./context";
import type { Page } from "./types";

interface AccessEntry {
  time: string;
  care_unit: { hsa_id: string | null; name: string | null };
  purpose: string | null;
  action: string;
  resource: string;
  staff_name: string | null;
}

const ACTIONS = ["read", "write", "lookup", "print", "emergency-access"];

export async function accessLogPage({ main }: PageContext): Promise<void> {
  const { patient } = await acting();
  const body = h("tbody");
  const more = h("div");
  const load = (cursor: string | null) =>
    api<Page<AccessEntry>>("GET", `/v1/patients/${encodeURIComponent(patient.patient_id)}/access-log`, {
      query: { limit: 25, cursor },
    });
  const show = pagedList({
    list: body,
    more,
    label: t("common.show-more"),
    item: (entry: AccessEntry) =>
      h(
        "tr",
        null,
        h("td", null, h("time", { datetime: entry.time }, formatDateTime(entry.time))),
        h("td", null, entry.care_unit.name ?? entry.care_unit.hsa_id ?? "–"),
        h("td", null, entry.staff_name ?? h("span", { class: "meta" }, t("log.name-hidden"))),
        h("td", null, ACTIONS.includes(entry.action) ? t(`log.action.${entry.action}` as Key) : entry.action),
        h("td", null, entry.purpose ?? "–"),
      ),
    next: load,
    failed: (error) => more.append(problemNotice(error)),
  });
  const first = await load(null);
  show(first);
  const count = first.items.length;
  fill(
    main,
    ...pageHeading(t("log.title"), t("log.lead", { name: patient.name })),
    count
      ? h(
          "div",
          { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "log-caption" },
          h(
            "table",
            { class: "table" },
            h("caption", { id: "log-caption" }, t("log.caption", { name: patient.name })),
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ...(["log.when", "log.unit", "log.staff", "log.action", "log.purpose"] as Key[]).map((key) =>
                  h("th", { scope: "col" }, t(key)),
                ),
              ),
            ),
            body,
          ),
        )
      : h("p", null, t("log.empty")),
    more,
  );
}

interface Channel {
  address: string;
  verified: boolean;
}

interface Settings {
  email: Channel | null;
  mobile: Channel | null;
  events: { inbox: boolean; cases: boolean; booking: boolean };
}

const EVENTS = ["inbox", "cases", "booking"] as const;

export async function settingsPage({ main }: PageContext): Promise<void> {
  const { me, patient } = await acting();
  // Notification settings are each person's own: a guardian is notified about a child through their own.
  const path = `/v1/patients/${encodeURIComponent(me.patient_id)}/notification-settings`;
  const settings = await api<Settings>("GET", path);
  const email = textField({
    name: "email",
    label: t("settings.email"),
    type: "email",
    autocomplete: "email",
    value: settings.email?.address ?? "",
    hint: channelHint(settings.email),
  });
  const mobile = textField({
    name: "mobile",
    label: t("settings.mobile"),
    type: "tel",
    autocomplete: "tel",
    value: settings.mobile?.address ?? "",
    hint: [t("settings.mobile-hint"), channelHint(settings.mobile)].join(" "),
    width: "medium",
  });
  const events = choiceField({
    name: "events",
    legend: t("settings.events"),
    multiple: true,
    required: false,
    value: EVENTS.filter((e) => settings.events[e]),
    options: EVENTS.map((e) => ({ value: e, label: t(`settings.event.${e}` as Key) })),
  });
  const summary = h("div");
  const save = submitButton(t("settings.save"));
  const form = checkedForm(
    async () => {
      fill(summary);
      for (const field of [email, mobile]) field.setError(null);
      const body: Record<string, unknown> = {
        events: Object.fromEntries(EVENTS.map((e) => [e, events.values().includes(e)])),
      };
      for (const [name, field, current] of [
        ["email", email, settings.email],
        ["mobile", mobile, settings.mobile],
      ] as const) {
        const value = field.input.value.trim();
        if (value !== (current?.address ?? "")) body[name] = value || null;
      }
      save.disabled = true;
      try {
        await api("PUT", path, { body });
        setFlash("success", t("settings.saved"));
        refresh();
      } catch (error) {
        save.disabled = false;
        const fields: Record<string, Field> = { email, mobile, events };
        if (!showInvalidParams(error, summary, (name) => fields[name] ?? null)) fill(summary, problemNotice(error));
      }
    },
    summary,
    email.element,
    mobile.element,
    events.element,
    save,
  );
  const pending = (["email", "mobile"] as const).filter((c) => settings[c] && !settings[c]!.verified);
  fill(
    main,
    takeFlash(),
    ...pageHeading(t("settings.title"), t("settings.lead")),
    patient.relation === "guardian" ? notice("info", h("p", null, t("settings.child-note", { name: patient.name }))) : null,
    ...pending.map((channel) => verifyForm(path, channel, settings[channel]!.address)),
    form,
  );
}

function channelHint(channel: Channel | null): string {
  if (!channel) return t("settings.none");
  return channel.verified ? t("settings.verified") : t("settings.unverified");
}

function verifyForm(path: string, channel: "email" | "mobile", address: string): HTMLElement {
  const code: TextField = textField({
    name: `code-${channel}`,
    label: t(channel === "email" ? "settings.code-email" : "settings.code-mobile", { address }),
    hint: t("settings.code-hint"),
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxLength: 6,
    width: "short",
    required: true,
  });
  const summary = h("div");
  return h(
    "section",
    { class: "section verify", "aria-labelledby": `verify-${channel}` },
    h("h2", { id: `verify-${channel}` }, t(channel === "email" ? "settings.verify-email" : "settings.verify-mobile")),
    checkedForm(
      async () => {
        code.setError(null);
        fill(summary);
        const value = code.input.value.replace(/\s/g, "");
        if (!/^\d{6}$/.test(value)) {
          showProblems(summary, [{ field: code, message: t("settings.code-format") }]);
          return;
        }
        try {
          await api("POST", `${path}/verification`, { body: { channel, code: value } });
          setFlash("success", t("settings.verified-now", { address }));
          refresh();
        } catch (error) {
          if (error instanceof ApiError && (error.status === 409 || error.status === 400)) {
            showProblems(summary, [{ field: code, message: problemText(error) }]);
          } else {
            fill(summary, problemNotice(error));
          }
        }
      },
      summary,
      code.element,
      submitButton(t("settings.verify")),
    ),
  );
}
