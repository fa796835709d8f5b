// Cases ("ärenden"): the list, a new case (choose a clinic, a case type it offers this patient, answer its
// form, read its terms, attach files, send), and one case with its thread, reply and withdrawal.

import { api, newIdempotencyKey } from "../api";
import { caseAction, fileList, threadSection } from "../case-view";
import { fill, h, type Child } from "../dom";
import { checkedForm, serverProblems, showProblems, showSummary, submitButton, type Problem } from "../forms";
import { formatDate, formatDateTime, pick, t } from "../i18n";
import { orMissing, pagedList } from "../page-data";
import { link, navigate, refresh, type PageContext } from "../router";
import { choiceField, facts, notice, pageHeading, problemNotice, setFlash, takeFlash, textField } from "../ui";
import { attachmentsField, download, type AttachmentsField } from "./attachments";
import { answerText, renderForm } from "./case-form";
import { acting, type Patient } from "./context";
import { clinicPicker } from "./find-care";
import type { AttachmentInfo, CaseDetail, CaseSummary, CaseType, ClinicDetail, Page } from "./types";
import { OPEN_STATUSES, statusText } from "./types";

function patientPath(patient: Patient): string {
  return `/v1/patients/${encodeURIComponent(patient.patient_id)}`;
}

// ---- the list ---------------------------------------------------------------------------------------------

export async function casesPage({ main }: PageContext): Promise<void> {
  const { patient } = await acting();
  const list = h("ul", { class: "item-list", "aria-labelledby": "cases-title" });
  const more = h("div");
  const load = (cursor: string | null) =>
    api<Page<CaseSummary>>("GET", `${patientPath(patient)}/cases`, { query: { limit: 20, cursor } });
  const show = pagedList({ list, more, label: t("common.show-more"), item: caseItem, next: load });
  show(await load(null));
  fill(
    main,
    takeFlash(),
    ...pageHeading(t("cases.title"), t("cases.lead", { name: patient.name })),
    h("p", null, link("/cases/new", { class: "button button-primary" }, t("cases.new"))),
    h("h2", { id: "cases-title" }, t("cases.list-title")),
    list.children.length ? list : h("p", null, t("cases.none")),
    more,
  );
}

function caseItem(c: CaseSummary): HTMLElement {
  return h(
    "li",
    { class: "item" },
    h("h3", { class: "item-title" }, link(`/cases/${encodeURIComponent(c.case_id)}`, null, pick(c.case_type.name) || c.case_type.id)),
    h(
      "p",
      { class: "meta" },
      c.clinic.name ?? c.clinic.hsa_id,
      " · ",
      h("span", { class: `status status-${c.status}` }, statusText(c.status)),
      " · ",
      t("cases.updated", { when: formatDateTime(c.updated_at) }),
    ),
  );
}

// ---- a new case ---------------------------------------------------------------------------------------------

export async function newCasePage({ main, query }: PageContext): Promise<void> {
  const { patient } = await acting();
  const clinicId = query.get("clinic");
  const typeId = query.get("type");
  const intro = t("cases.new-lead", { name: patient.name });
  if (!clinicId) {
    fill(
      main,
      ...pageHeading(t("cases.new-title"), intro),
      h("h2", null, t("cases.step-clinic")),
      clinicPicker((clinic) => navigate(`/cases/new?clinic=${encodeURIComponent(clinic.id)}`)),
    );
    return;
  }
  const [clinic, types] = await Promise.all([
    api<ClinicDetail>("GET", `/v1/clinics/${encodeURIComponent(clinicId)}`, { auth: false }),
    api<Page<CaseType>>("GET", `/v1/clinics/${encodeURIComponent(clinicId)}/case-types`, {
      query: { patient_id: patient.patient_id },
    }),
  ]);
  const chosen = types.items.find((type) => type.id === typeId);
  if (!chosen) {
    renderTypeChoice(main, intro, clinic, types.items);
    return;
  }
  renderCaseForm(main, patient, clinic, chosen);
}

function renderTypeChoice(main: HTMLElement, intro: string, clinic: ClinicDetail, types: CaseType[]): void {
  const other = link("/cases/new", null, t("cases.other-clinic"));
  if (!types.length) {
    fill(
      main,
      ...pageHeading(t("cases.new-title"), intro),
      notice("info", h("p", null, t("cases.no-types", { clinic: clinic.name }))),
      h("p", null, other),
    );
    return;
  }
  const choice = choiceField({
    name: "case-type",
    legend: t("cases.step-type", { clinic: clinic.name }),
    required: true,
    options: types.map((type) => ({ value: type.id, label: pick(type.name), hint: pick(type.description) })),
  });
  const summary = h("div");
  fill(
    main,
    ...pageHeading(t("cases.new-title"), intro),
    h("p", null, t("cases.to-clinic", { clinic: clinic.name }), " ", other),
    checkedForm(
      () => {
        const value = choice.values()[0];
        if (!value) {
          showProblems(summary, [{ field: choice, message: t("cases.choose-type") }]);
          return;
        }
        navigate(`/cases/new?clinic=${encodeURIComponent(clinic.id)}&type=${encodeURIComponent(value)}`);
      },
      summary,
      choice.element,
      submitButton(t("common.continue")),
    ),
  );
}

function renderCaseForm(main: HTMLElement, patient: Patient, clinic: ClinicDetail, type: CaseType): void {
  const form = renderForm(type.form.fields);
  const attachments = attachmentsField(patient.patient_id);
  const summary = h("div");
  const status = h("div", { role: "status" });
  let key = newIdempotencyKey();
  let lastBody = "";
  const send = submitButton(t("cases.send"));
  const element = checkedForm(
    async () => {
      fill(summary);
      attachments.setError(null);
      const { answers, problems } = form.collect();
      const all: Problem[] = [...problems];
      if (attachments.busy()) all.push({ field: attachments, message: t("attach.wait") });
      else if (attachments.failed()) all.push({ field: attachments, message: t("attach.remove-failed") });
      if (all.length) {
        for (const p of all) if (p.field === attachments) attachments.setError(p.message);
        showSummary(summary, all);
        return;
      }
      const body = {
        clinic_id: clinic.id,
        case_type_id: type.id,
        form_version: type.form.version,
        answers,
        attachments: attachments.ids(),
      };
      const serialised = JSON.stringify(body);
      if (lastBody && serialised !== lastBody) key = newIdempotencyKey(); // another request, another key
      lastBody = serialised;
      send.disabled = true;
      fill(status, t("cases.sending"));
      try {
        const created = await api<CaseDetail>("POST", `${patientPath(patient)}/cases`, { body, idempotencyKey: key });
        setFlash("success", t("cases.sent", { clinic: clinic.name }));
        navigate(`/cases/${encodeURIComponent(created.case_id)}`);
      } catch (error) {
        send.disabled = false;
        fill(status);
        serverProblems(error, summary, (name) => {
          if (name.startsWith("answers.")) return form.fields.get(name.slice(8)) ?? null;
          if (name.startsWith("attachments")) return attachments;
          return null;
        });
      }
    },
    summary,
    form.element,
    attachments.element,
    type.terms
      ? h(
          "section",
          { class: "terms", "aria-labelledby": "terms-title" },
          h("h2", { id: "terms-title" }, t("cases.terms", { clinic: clinic.name })),
          h("p", null, pick(type.terms)),
        )
      : null,
    h("p", { class: "hint" }, t("cases.answer-days", { days: type.answer_days })),
    send,
    status,
  );
  fill(
    main,
    ...pageHeading(pick(type.name), pick(type.description)),
    h("p", null, t("cases.to-clinic", { clinic: clinic.name }), " · ", t("cases.for-patient", { name: patient.name })),
    h("p", null, link(`/cases/new?clinic=${encodeURIComponent(clinic.id)}`, null, t("cases.other-type"))),
    h("p", { class: "hint" }, t("form.required-note")),
    element,
  );
}

// ---- one case --------------------------------------------------------------------------------------------

export async function casePage({ main, params }: PageContext): Promise<void> {
  const { patient } = await acting();
  const caseId = params.caseId ?? "";
  const request = api<CaseDetail>("GET", `${patientPath(patient)}/cases/${encodeURIComponent(caseId)}`);
  const item = await orMissing(request, main, () => [
    ...pageHeading(t("cases.missing")),
    h("p", null, t("cases.missing-text", { name: patient.name })),
    link("/cases", null, t("cases.back")),
  ]);
  if (!item) return;
  const types = await api<Page<CaseType>>("GET", `/v1/clinics/${encodeURIComponent(item.clinic.hsa_id)}/case-types`, {
    query: { patient_id: patient.patient_id },
  }).catch(() => ({ items: [] as CaseType[] }));
  const definitions = new Map(types.items.find((type) => type.id === item.case_type.id)?.form.fields.map((f) => [f.id, f]) ?? []);
  const open = OPEN_STATUSES.includes(item.status);
  fill(
    main,
    takeFlash(),
    ...pageHeading(pick(item.case_type.name) || item.case_type.id),
    facts([
      [t("cases.clinic"), item.clinic.name ?? item.clinic.hsa_id],
      [t("cases.status"), h("span", { class: `status status-${item.status}` }, statusText(item.status))],
      [t("cases.created"), formatDateTime(item.created_at)],
      item.due_at && open ? [t("cases.due"), formatDate(item.due_at)] : null,
      item.closed_at ? [t("cases.closed"), formatDateTime(item.closed_at)] : null,
    ].filter((row): row is [string, string | HTMLElement] => row !== null)),
    decisionView(item),
    h(
      "section",
      { class: "section", "aria-labelledby": "answers-title" },
      h("h2", { id: "answers-title" }, t("cases.answers")),
      facts(
        Object.entries(item.answers).map(([id, value]) => {
          const definition = definitions.get(id);
          return [definition ? pick(definition.label) : id, answerText(definition, value)];
        }),
      ),
      attachmentList(patient, item.case_id, item.attachments),
    ),
    thread(patient, item),
    open ? replyForm(patient, item) : h("p", null, t("cases.closed-note"), " ", link("/cases/new", null, t("cases.new"))),
    open ? withdrawButton(patient, item) : null,
    h("p", null, link("/cases", null, t("cases.back"))),
  );
}

function decisionView(item: CaseDetail): HTMLElement | null {
  const decision = item.decision;
  if (!decision) return null;
  const renewed = Array.isArray(decision.renewed) ? (decision.renewed as string[]) : [];
  const outcome = decision.outcome === "approved" ? t("cases.approved") : decision.outcome === "denied" ? t("cases.denied") : String(decision.outcome ?? "");
  return h(
    "section",
    { class: "section", "aria-labelledby": "decision-title" },
    h("h2", { id: "decision-title" }, t("cases.decision")),
    h("p", null, outcome),
    renewed.length ? h("ul", null, ...renewed.map((r) => h("li", null, r))) : null,
    typeof decision.reason === "string" ? h("p", null, decision.reason) : null,
    item.prescription ? h("p", { class: "meta" }, t("cases.prescription", { status: item.prescription.status })) : null,
  );
}

function attachmentList(patient: Patient, caseId: string, attachments: AttachmentInfo[]): Child {
  return fileList(
    attachments,
    (a) => t("attach.download", { name: a.filename }),
    (a) => download(patient.patient_id, caseId, a.attachment_id),
    problemNotice,
  );
}

function thread(patient: Patient, item: CaseDetail): HTMLElement {
  return threadSection(item.messages ?? [], { title: t("cases.thread"), empty: t("cases.no-messages") }, {
    author: (m) => (m.author.kind === "staff" ? m.author.name || item.clinic.name || "" : m.author.name || t("cases.you")),
    note: (m) => (m.kind === "information_request" ? t("cases.information-request") : null),
    text: (m) => messageText(m.kind, m.text),
    attachments: (m) => attachmentList(patient, item.case_id, m.attachments ?? []),
  });
}

/** Events the platform writes in English get the user's language; people's words are shown as written. */
function messageText(kind: string, text: string): string {
  if (kind === "withdrawn") return t("cases.event.withdrawn");
  if (kind === "reopened") return t("cases.event.reopened");
  if (kind === "closed" && text === "The case was closed.") return t("cases.event.closed");
  return text;
}

function replyForm(patient: Patient, item: CaseDetail): HTMLElement {
  const text = textField({ name: "reply", label: t("cases.reply-label"), multiline: true, required: true, maxLength: 4000, rows: 5 });
  const attachments: AttachmentsField = attachmentsField(patient.patient_id);
  const summary = h("div");
  const send = submitButton(t("cases.reply-send"));
  return h(
    "section",
    { class: "section", "aria-labelledby": "reply-title" },
    h("h2", { id: "reply-title" }, t("cases.reply")),
    checkedForm(
      async () => {
        text.setError(null);
        attachments.setError(null);
        const value = text.input.value.trim();
        const problems: Problem[] = [];
        if (!value) problems.push({ field: text, message: t("cases.reply-empty") });
        if (attachments.busy()) problems.push({ field: attachments, message: t("attach.wait") });
        else if (attachments.failed()) problems.push({ field: attachments, message: t("attach.remove-failed") });
        if (problems.length) {
          showProblems(summary, problems);
          return;
        }
        send.disabled = true;
        try {
          await api("POST", `${patientPath(patient)}/cases/${encodeURIComponent(item.case_id)}/messages`, {
            body: { text: value, attachments: attachments.ids() },
          });
          setFlash("success", t("cases.reply-sent"));
          refresh();
        } catch (error) {
          send.disabled = false;
          serverProblems(error, summary, (name) => (name === "text" ? text : name.startsWith("attachments") ? attachments : null));
        }
      },
      summary,
      text.element,
      attachments.element,
      send,
    ),
  );
}

function withdrawButton(patient: Patient, item: CaseDetail): HTMLElement {
  return caseAction({
    id: "withdraw-title",
    title: t("cases.withdraw-title"),
    text: t("cases.withdraw-text"),
    label: t("cases.withdraw"),
    buttonClass: "button button-warning",
    confirm: t("cases.withdraw-confirm"),
    request: () => api("POST", `${patientPath(patient)}/cases/${encodeURIComponent(item.case_id)}/withdrawal`),
    done: t("cases.withdrawn"),
    failed: problemNotice,
  });
}
