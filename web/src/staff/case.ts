// One case of the unit (GET /v1/staff/patients/{patientId}/cases/{caseId}): the resident's answers and the
// thread; answer (free text and/or one of the unit's standard answers, optionally closing the case) or ask
// for more information; decide a prescription renewal (approved with what was renewed, or denied with a
// reason); assign; close; reopen. Every action is a request under the chosen commission.

import { api } from "../api";
import { caseAction, fileList, threadSection } from "../case-view";
import { fill, h, type Child } from "../dom";
import { checkedForm, serverProblems, showProblems, submitButton, type Problem } from "../forms";
import { currentLang, formatDate, formatDateTime, pick, t } from "../i18n";
import { orMissing } from "../page-data";
import { link, refresh } from "../router";
import { button, choiceField, facts, pageHeading, selectField, setFlash, takeFlash, textField } from "../ui";
import { actionProblem, staffPage } from "./common";
import type { Commission, StaffMe } from "./context";
import { st } from "./texts";
import {
  OPEN_STATUSES,
  type Attachment,
  type CaseMessage,
  type FormField,
  type Page,
  type StaffCase,
  type StandardAnswer,
  type UnitCaseTypes,
} from "./types";

const MAX_TEXT = 4000;
const PRESCRIPTION_RENEWAL = "renew-prescription";

interface CaseView {
  me: StaffMe;
  commission: Commission;
  item: StaffCase;
  path: string;
}

export const casePage = staffPage(async ({ main, params, signal }, { me, commission }) => {
  const path = `/v1/staff/patients/${encodeURIComponent(params.patientId ?? "")}/cases/${encodeURIComponent(params.caseId ?? "")}`;
  const item = await orMissing(api<StaffCase>("GET", path, { signal }), main, () => [
    ...pageHeading(st("case.missing")),
    h("p", null, st("case.missing-text")),
    h("p", null, link("/staff/cases", null, st("case.back"))),
  ]);
  if (!item) return;
  const [answers, types] = await Promise.all([
    api<Page<StandardAnswer>>("GET", "/v1/staff/standard-answers", { signal }).catch(() => ({ items: [] as StandardAnswer[] })),
    api<UnitCaseTypes>("GET", "/v1/staff/case-types", { signal }).catch(() => ({ configured: [] }) as UnitCaseTypes),
  ]);
  const type = types.configured.find((c) => c.id === item.case_type.id);
  const view: CaseView = { me, commission, item, path };
  const open = OPEN_STATUSES.includes(item.status);
  const typeName = pick(item.case_type.name) || (type ? pick(type.name) : "") || item.case_type.id;
  fill(
    main,
    takeFlash(),
    ...pageHeading(`${item.patient_name ?? st("case.patient")} – ${typeName}`),
    facts(
      [
        [st("case.patient"), item.patient_name ?? "–"] as [string, Child],
        [st("case.status"), h("span", { class: `status status-${item.status}` }, st(`status.${item.status}`))] as [string, Child],
        [st("case.received"), formatDateTime(item.created_at)] as [string, Child],
        item.due_at && open ? ([st("case.due"), formatDate(item.due_at)] as [string, Child]) : null,
        item.closed_at ? ([st("case.closed-at"), formatDateTime(item.closed_at)] as [string, Child]) : null,
        [st("case.sent-by"), authorName(item.created_by)] as [string, Child],
      ].filter((row): row is [string, Child] => row !== null),
    ),
    decisionView(item),
    answersView(view, type?.form?.fields ?? []),
    thread(view),
    open && item.case_type.id === PRESCRIPTION_RENEWAL && !item.decision ? decisionForm(view) : null,
    open ? replyForm(view, answers.items) : h("p", null, st(item.status === "withdrawn" ? "case.withdrawn-note" : "case.closed-note")),
    assignment(view),
    open ? closeSection(view) : item.status === "closed" ? reopenSection(view) : null,
    h("p", null, link("/staff/cases", null, st("case.back"))),
  );
});

function authorName(author: StaffCase["created_by"] | undefined): string {
  if (!author) return "–";
  if (author.kind === "resident" && author.relation === "guardian") return st("case.guardian", { name: author.name });
  return author.name || st("case.resident");
}

function answerText(field: FormField | undefined, value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (field?.options && typeof value === "string") return pick(field.options.find((o) => o.value === value)?.label) || value;
  if (Array.isArray(value)) {
    return value.map((v) => pick(field?.options?.find((o) => o.value === v)?.label) || String(v)).join(", ");
  }
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (field?.type === "date" && typeof value === "string") return formatDate(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function answersView(view: CaseView, fields: FormField[]): HTMLElement {
  const byId = new Map(fields.map((f) => [f.id, f]));
  const ordered = [
    ...fields.filter((f) => f.id in view.item.answers).map((f) => f.id),
    ...Object.keys(view.item.answers).filter((id) => !byId.has(id)),
  ];
  return h(
    "section",
    { class: "section", "aria-labelledby": "answers-title" },
    h("h2", { id: "answers-title" }, st("case.answers")),
    facts(ordered.map((id) => [byId.get(id) ? pick(byId.get(id)?.label) : id, answerText(byId.get(id), view.item.answers[id])])),
    attachmentList(view, view.item.attachments),
  );
}

function attachmentList(view: CaseView, attachments: Attachment[] | undefined): Child {
  return fileList(
    attachments ?? [],
    (a) => st("case.download", { name: a.filename }),
    async (a) => {
      const { url } = await api<{ url: string }>("GET", `${view.path}/attachments/${encodeURIComponent(a.attachment_id)}`);
      location.assign(url);
    },
    (error) => actionProblem(error, view.commission),
  );
}

function decisionView(item: StaffCase): HTMLElement | null {
  const decision = item.decision;
  if (!decision) return null;
  return h(
    "section",
    { class: "section", "aria-labelledby": "decided-title" },
    h("h2", { id: "decided-title" }, st("decision.title")),
    h("p", null, h("strong", null, st(decision.outcome === "approved" ? "decision.approved" : "decision.denied"))),
    decision.renewed?.length ? h("ul", null, ...decision.renewed.map((r) => h("li", null, r))) : null,
    h(
      "p",
      { class: "meta" },
      st("decision.by", { when: formatDateTime(decision.decided_at), name: decision.decided_by?.name ?? "–" }),
    ),
    item.prescription
      ? h(
          "p",
          { class: "meta" },
          item.prescription.status === "pending" || item.prescription.status === "sent"
            ? st(`prescription.${item.prescription.status}`)
            : st("prescription.other", { status: item.prescription.status }),
        )
      : null,
  );
}

const EVENTS: Record<string, string> = {
  "The case was closed.": "case.event.closed",
  "The case was reopened.": "case.event.reopened",
};

function messageText(message: CaseMessage): string {
  if (message.kind === "withdrawn") return st("case.event.withdrawn");
  const event = EVENTS[message.text];
  return event ? st(event as "case.event.closed") : message.text;
}

function thread(view: CaseView): HTMLElement {
  return threadSection(view.item.messages ?? [], { title: st("case.thread"), empty: st("case.no-messages") }, {
    author: (m) => authorName(m.author),
    note: (m) =>
      m.kind === "information_request" || m.kind === "decision" || m.kind === "forwarded" ? st(`case.kind.${m.kind}`) : null,
    text: (m) => messageText(m),
    attachments: (m) => attachmentList(view, m.attachments),
  });
}

// ---- answer / ask for more information ------------------------------------------------------------------------

function replyForm(view: CaseView, standardAnswers: StandardAnswer[]): HTMLElement {
  const kind = choiceField({
    name: "reply-kind",
    legend: st("reply.kind"),
    required: true,
    value: "reply",
    inline: true,
    options: [
      { value: "reply", label: st("reply.kind.reply") },
      { value: "request", label: st("reply.kind.request"), hint: st("reply.kind.request-hint") },
    ],
  });
  const standard = selectField({
    name: "standard_answer_id",
    label: st("reply.standard"),
    hint: st("reply.standard-hint"),
    required: false,
    value: "",
    options: [
      { value: "", label: st("reply.standard-none") },
      ...standardAnswers.map((a) => ({ value: a.id, label: shorten(pick(a.text), 70) })),
    ],
  });
  const language = selectField({
    name: "language",
    label: st("reply.language"),
    value: currentLang(),
    options: [
      { value: "sv", label: "Svenska" },
      { value: "en", label: "English" },
    ],
  });
  language.select.querySelectorAll("option").forEach((o) => o.setAttribute("lang", o.value));
  const preview = h("div", { class: "standard-preview", "aria-live": "polite", hidden: true });
  const showPreview = (): void => {
    const chosen = standardAnswers.find((a) => a.id === standard.select.value);
    language.element.hidden = !chosen;
    preview.hidden = !chosen;
    const lang = language.select.value === "en" ? "en" : "sv";
    fill(preview, chosen ? [h("p", { class: "meta" }, st("reply.preview")), h("p", { lang }, chosen.text[lang])] : null);
  };
  standard.select.addEventListener("change", showPreview);
  language.select.addEventListener("change", showPreview);
  const text = textField({
    name: "text",
    label: st("reply.text"),
    hint: st("reply.text-hint"),
    multiline: true,
    required: false,
    maxLength: MAX_TEXT,
    rows: 6,
  });
  const closeBox = h("input", { id: "reply-close", type: "checkbox", name: "close", value: "close", class: "choice-input" });
  const close = h(
    "div",
    { class: "field" },
    h("div", { class: "choice" }, closeBox, h("label", { for: "reply-close", class: "choice-label" }, st("reply.close"))),
  );
  kind.onChange(() => {
    close.hidden = kind.values()[0] === "request";
  });
  showPreview();
  const summary = h("div");
  const send = submitButton(st("reply.send"));
  return h(
    "section",
    { class: "section", "aria-labelledby": "reply-title" },
    h("h2", { id: "reply-title" }, st("reply.title")),
    checkedForm(
      async () => {
        for (const field of [text, standard, language]) field.setError(null);
        fill(summary);
        const request = kind.values()[0] === "request";
        const body: Record<string, unknown> = {};
        const written = text.input.value.trim();
        if (written) body.text = written;
        if (standard.select.value) {
          body.standard_answer_id = standard.select.value;
          body.language = language.select.value;
        }
        if (!written && !standard.select.value) {
          showProblems(summary, [{ field: text, message: st("reply.empty") }]);
          return;
        }
        const closing = !request && closeBox.checked;
        if (closing) body.close = true;
        send.disabled = true;
        try {
          await api("POST", `${view.path}/${request ? "information-requests" : "messages"}`, { body });
          setFlash("success", st(request ? "reply.requested" : closing ? "reply.sent-closed" : "reply.sent"));
          refresh();
        } catch (error) {
          send.disabled = false;
          serverProblems(
            error,
            summary,
            (name) => (name === "text" ? text : name === "standard_answer_id" ? standard : name === "language" ? language : null),
            (e) => actionProblem(e, view.commission),
          );
        }
      },
      summary,
      kind.element,
      standard.element,
      language.element,
      preview,
      text.element,
      close,
      send,
    ),
  );
}

function shorten(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1).trimEnd()}…`;
}

// ---- prescription renewal decision ----------------------------------------------------------------------------

function decisionForm(view: CaseView): HTMLElement {
  const outcome = choiceField({
    name: "outcome",
    legend: st("decision.outcome"),
    required: true,
    options: [
      { value: "approved", label: st("decision.approve") },
      { value: "denied", label: st("decision.deny") },
    ],
  });
  const medicines = view.item.answers.medicines;
  const renewed = textField({
    name: "renewed",
    label: st("decision.renewed"),
    hint: st("decision.renewed-hint"),
    multiline: true,
    required: true,
    rows: 4,
    value: typeof medicines === "string" ? medicines : "",
  });
  const reason = textField({
    name: "reason",
    label: st("decision.reason"),
    hint: st("decision.reason-hint"),
    multiline: true,
    required: true,
    maxLength: MAX_TEXT,
    rows: 4,
  });
  const sync = (): void => {
    const chosen = outcome.values()[0];
    renewed.element.hidden = chosen !== "approved";
    reason.element.hidden = chosen !== "denied";
  };
  outcome.onChange(sync);
  sync();
  const summary = h("div");
  const save = submitButton(st("decision.send"));
  return h(
    "section",
    { class: "section", "aria-labelledby": "decision-title" },
    h("h2", { id: "decision-title" }, st("decision.title")),
    checkedForm(
      async () => {
        for (const field of [outcome, renewed, reason]) field.setError(null);
        fill(summary);
        const chosen = outcome.values()[0];
        const lines = renewed.input.value.split("\n").map((l) => l.trim()).filter(Boolean);
        const problems: Problem[] = [];
        if (!chosen) problems.push({ field: outcome, message: st("decision.choose") });
        else if (chosen === "approved" && !lines.length) problems.push({ field: renewed, message: st("decision.renewed-empty") });
        else if (chosen === "approved" && lines.length > 20) problems.push({ field: renewed, message: st("decision.renewed-many") });
        else if (chosen === "denied" && !reason.input.value.trim()) problems.push({ field: reason, message: st("decision.reason-empty") });
        if (problems.length) {
          showProblems(summary, problems);
          return;
        }
        const body = chosen === "approved" ? { outcome: chosen, renewed: lines } : { outcome: chosen, reason: reason.input.value.trim() };
        save.disabled = true;
        try {
          await api("POST", `${view.path}/decision`, { body });
          setFlash("success", st(chosen === "approved" ? "decision.approved-done" : "decision.denied-done"));
          refresh();
        } catch (error) {
          save.disabled = false;
          serverProblems(
            error,
            summary,
            (name) => (name === "outcome" ? outcome : name.startsWith("renewed") ? renewed : name === "reason" ? reason : null),
            (e) => actionProblem(e, view.commission),
          );
        }
      },
      summary,
      outcome.element,
      renewed.element,
      reason.element,
      save,
    ),
  );
}

// ---- assign, close, reopen ------------------------------------------------------------------------------------

function assignment(view: CaseView): HTMLElement {
  const { item, me } = view;
  const slot = h("div");
  const mine = item.assignee_hsa_id === me.hsa_id;
  const act = (assignee: string | null, done: string) => async (): Promise<void> => {
    try {
      await api("POST", `${view.path}/assignment`, { body: { assignee_hsa_id: assignee } });
      setFlash("success", done);
      refresh();
    } catch (error) {
      fill(slot, actionProblem(error, view.commission));
    }
  };
  return h(
    "section",
    { class: "section", "aria-labelledby": "assign-title" },
    h("h2", { id: "assign-title" }, st("assign.title")),
    h(
      "p",
      null,
      mine ? st("assign.to-me") : item.assignee_hsa_id ? st("assign.to", { hsa: item.assignee_hsa_id }) : st("assign.nobody"),
    ),
    h(
      "div",
      { class: "button-row" },
      mine ? null : button(st("assign.me"), { class: "button button-secondary", onclick: act("me", st("assign.done-me")) }),
      item.assignee_hsa_id
        ? button(st("assign.remove"), { class: "button button-secondary", onclick: act(null, st("assign.done-removed")) })
        : null,
    ),
    slot,
  );
}

function closeSection(view: CaseView): HTMLElement {
  return caseAction({
    id: "close-title",
    title: st("close.title"),
    text: st("close.text"),
    label: st("close.button"),
    buttonClass: "button button-warning",
    confirm: st("close.confirm"),
    request: () => api("POST", `${view.path}/closure`),
    done: st("close.done"),
    failed: (error) => actionProblem(error, view.commission),
  });
}

function reopenSection(view: CaseView): HTMLElement {
  return caseAction({
    id: "reopen-title",
    title: st("reopen.title"),
    text: st("reopen.text"),
    label: st("reopen.button"),
    buttonClass: "button button-secondary",
    request: () => api("POST", `${view.path}/reopening`),
    done: st("reopen.done"),
    failed: (error) => actionProblem(error, view.commission),
  });
}
