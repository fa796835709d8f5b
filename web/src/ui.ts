// Shared building blocks of the pages: headings, notices, form fields with their hints and errors (tied
// with aria-describedby), an error summary, a confirmation dialog, and the messages for API problems.

import { ApiError } from "./api";
import { h, uid, type Attrs, type Child } from "./dom";
import { t, type Key } from "./i18n";

export function pageHeading(text: string, ...lead: Child[]): HTMLElement[] {
  const heading = h("h1", { tabindex: "-1", class: "page-heading" }, text);
  return lead.length ? [heading, h("p", { class: "lead" }, ...lead)] : [heading];
}

/** A realm's session bar (see layout.registerSessionBar): "Logged in as {name} · {what}" and a link to change
 *  what (or null); `child` marks acting for a child so that it cannot be missed. */
export function sessionBarLine(name: string, what: Child[], change: HTMLElement | null, child = false): HTMLElement {
  return h(
    "div",
    { class: child ? "session-bar session-bar-child" : "session-bar" },
    h(
      "div",
      { class: "session-bar-inner" },
      h("p", { class: "session-bar-text" }, t("who.logged-in-as", { name }), " · ", ...what),
      change,
    ),
  );
}

export type NoticeKind = "info" | "success" | "warning" | "error";

/** A message block; errors and warnings are announced at once (role=alert), the rest politely. */
export function notice(kind: NoticeKind, ...children: Child[]): HTMLElement {
  const urgent = kind === "error" || kind === "warning";
  return h("div", { class: `notice notice-${kind}`, role: urgent ? "alert" : "status" }, ...children);
}

export function loading(): HTMLElement {
  return h("p", { class: "loading", role: "status" }, t("common.loading"));
}

export function button(text: string, attrs: Attrs = {}, ...rest: Child[]): HTMLButtonElement {
  return h("button", { type: "button", class: "button", ...attrs }, text, ...rest);
}

const PROBLEM_TEXTS: Record<string, Key> = {
  network: "problem.network",
  unauthorized: "problem.unauthorized",
  "service-unavailable": "problem.service-unavailable",
  "not-found": "problem.not-found",
  forbidden: "problem.forbidden",
  "time-unavailable": "problem.time-unavailable",
  "already-booked": "problem.already-booked",
  "not-eligible": "problem.not-eligible",
  "deadline-passed": "problem.deadline-passed",
  "not-allowed-on-the-web": "problem.not-allowed-on-the-web",
  "outside-booking-horizon": "problem.outside-booking-horizon",
  "appointment-not-active": "problem.appointment-not-active",
  "times-held-by-external-system": "problem.service-unavailable",
  "form-version-changed": "problem.form-version-changed",
  "idempotency-key-reused": "problem.idempotency-key-reused",
  "case-not-open": "problem.case-not-open",
  "verification-failed": "problem.verification-failed",
  "invalid-input": "problem.invalid-input",
};

/** A sentence for the user about what went wrong (never the raw server text for known problems). */
export function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const key = PROBLEM_TEXTS[error.code];
    if (error.code === "verification-failed" && error.problem.reason === "wrong-code") {
      return t("problem.wrong-code", { left: String(error.problem.attempts_left ?? 0) });
    }
    if (key) return t(key, { seconds: error.retryAfter ?? 5 });
    if (error.status >= 500) return t("problem.server");
    return error.detail || t("problem.unknown");
  }
  return t("problem.unknown");
}

export function problemNotice(error: unknown): HTMLElement {
  return notice("error", h("p", null, problemText(error)));
}

// ---- form fields ------------------------------------------------------------------------------------------

export interface Field {
  /** The wrapper to place in the form. */
  element: HTMLElement;
  /** The element to focus for this field (the input, or the first option of a group). */
  focusTarget: HTMLElement;
  id: string;
  label: string;
  setError(message: string | null): void;
}

function describedBy(...ids: (string | null)[]): string | null {
  const joined = ids.filter(Boolean).join(" ");
  return joined || null;
}

interface TextFieldOptions {
  name: string;
  label: string;
  hint?: string;
  type?: string;
  multiline?: boolean;
  required?: boolean;
  value?: string;
  autocomplete?: string;
  inputmode?: string;
  maxLength?: number;
  rows?: number;
  list?: string;
  width?: "short" | "medium" | "full";
}

export interface TextField extends Field {
  input: HTMLInputElement | HTMLTextAreaElement;
}

export function textField(options: TextFieldOptions): TextField {
  const id = uid(options.name);
  const hintId = options.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const attrs: Attrs = {
    id,
    name: options.name,
    required: options.required ?? false,
    "aria-required": options.required ? "true" : null,
    autocomplete: options.autocomplete ?? null,
    inputmode: options.inputmode ?? null,
    maxlength: options.maxLength ?? null,
    "aria-describedby": describedBy(hintId),
    class: `input input-${options.width ?? "full"}`,
  };
  const input = options.multiline
    ? h("textarea", { ...attrs, rows: options.rows ?? 5 })
    : h("input", { ...attrs, type: options.type ?? "text", list: options.list ?? null });
  input.value = options.value ?? "";
  const element = h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "label" }, options.label, options.required ? null : optionalMark()),
    options.hint ? h("p", { id: hintId, class: "hint" }, options.hint) : null,
    error,
    input,
  );
  return {
    element,
    input,
    focusTarget: input,
    id,
    label: options.label,
    setError(message) {
      setFieldError(element, error, [input], message, hintId, errorId);
    },
  };
}

/** " (optional)" after the label of a field that need not be filled in. */
export function optionalMark(): HTMLElement {
  return h("span", { class: "optional" }, ` (${t("form.optional")})`);
}

/** Show or clear a field's error: the message (announced with its prefix) and aria-invalid/-describedby. */
export function setFieldError(
  wrapper: HTMLElement,
  error: HTMLElement,
  inputs: HTMLElement[],
  message: string | null,
  hintId: string | null,
  errorId: string,
): void {
  wrapper.classList.toggle("field-invalid", !!message);
  error.hidden = !message;
  error.replaceChildren();
  if (message) error.append(h("span", { class: "visually-hidden" }, `${t("form.error-prefix")} `), message);
  for (const input of inputs) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    const ids = describedBy(hintId, message ? errorId : null);
    if (ids) input.setAttribute("aria-describedby", ids);
    else input.removeAttribute("aria-describedby");
  }
}

interface ChoiceOptions {
  name: string;
  legend: string;
  hint?: string;
  options: { value: string; label: string; hint?: string }[];
  multiple?: boolean;
  required?: boolean;
  value?: string | string[] | null;
  inline?: boolean;
}

export interface ChoiceField extends Field {
  inputs: HTMLInputElement[];
  values(): string[];
  onChange(listener: () => void): void;
}

/** Radio buttons (one choice) or checkboxes (several) in a fieldset whose legend is the question. */
export function choiceField(options: ChoiceOptions): ChoiceField {
  const id = uid(options.name);
  const hintId = options.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const chosen = new Set(
    Array.isArray(options.value) ? options.value : options.value ? [options.value] : [],
  );
  const inputs: HTMLInputElement[] = [];
  const items = options.options.map((option, index) => {
    const inputId = `${id}-${index}`;
    const input = h("input", {
      id: inputId,
      type: options.multiple ? "checkbox" : "radio",
      name: options.name,
      value: option.value,
      class: "choice-input",
      "aria-describedby": describedBy(hintId),
      required: !options.multiple && options.required ? true : null,
    });
    input.checked = chosen.has(option.value);
    inputs.push(input);
    const optionHintId = option.hint ? `${inputId}-hint` : null;
    if (optionHintId) input.setAttribute("aria-describedby", describedBy(hintId, optionHintId) ?? "");
    return h(
      "div",
      { class: "choice" },
      input,
      h("label", { for: inputId, class: "choice-label" }, option.label),
      option.hint ? h("p", { id: optionHintId, class: "hint choice-hint" }, option.hint) : null,
    );
  });
  const element = h(
    "fieldset",
    { class: "field fieldset", id, "aria-describedby": describedBy(hintId) },
    h("legend", { class: "legend" }, options.legend, options.required ? null : optionalMark()),
    options.hint ? h("p", { id: hintId, class: "hint" }, options.hint) : null,
    error,
    h("div", { class: options.inline ? "choices choices-inline" : "choices" }, ...items),
  );
  return {
    element,
    inputs,
    focusTarget: inputs[0] ?? element,
    id: inputs[0]?.id ?? id,
    label: options.legend,
    values: () => inputs.filter((i) => i.checked).map((i) => i.value),
    onChange(listener) {
      for (const input of inputs) input.addEventListener("change", listener);
    },
    setError(message) {
      setFieldError(element, error, inputs, message, hintId, errorId);
      if (message) element.setAttribute("aria-describedby", describedBy(hintId, errorId) ?? "");
      else if (hintId) element.setAttribute("aria-describedby", hintId);
      else element.removeAttribute("aria-describedby");
    },
  };
}

interface SelectOptions {
  name: string;
  label: string;
  hint?: string;
  options: { value: string; label: string }[];
  value?: string;
  required?: boolean;
}

export interface SelectField extends Field {
  select: HTMLSelectElement;
}

export function selectField(options: SelectOptions): SelectField {
  const id = uid(options.name);
  const hintId = options.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const select = h(
    "select",
    { id, name: options.name, class: "select", required: options.required ?? false, "aria-describedby": hintId },
    ...options.options.map((o) => h("option", { value: o.value, selected: o.value === options.value }, o.label)),
  );
  if (options.value !== undefined) select.value = options.value;
  const element = h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "label" }, options.label, options.required === false ? optionalMark() : null),
    options.hint ? h("p", { id: hintId, class: "hint" }, options.hint) : null,
    error,
    select,
  );
  return {
    element,
    select,
    focusTarget: select,
    id,
    label: options.label,
    setError(message) {
      setFieldError(element, error, [select], message, hintId, errorId);
    },
  };
}

/** "There is a problem" with a link to each field in error; gets focus so it is read out first. */
export function errorSummary(problems: { field: Field | null; message: string }[]): HTMLElement {
  const summary = h(
    "div",
    { class: "error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title", class: "error-summary-title" }, t("form.error-summary")),
    h(
      "ul",
      { class: "error-summary-list" },
      ...problems.map(({ field, message }) =>
        h(
          "li",
          null,
          field
            ? h(
                "a",
                {
                  href: `#${field.id}`,
                  onclick: (event: Event) => {
                    event.preventDefault();
                    field.focusTarget.focus();
                  },
                },
                `${field.label}: ${message}`,
              )
            : message,
        ),
      ),
    ),
  );
  return summary;
}

/** A modal confirmation (native <dialog>: focus is kept inside, Escape cancels). */
export function confirmDialog(text: string, confirmText: string, cancelText = t("common.cancel")): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId, class: "dialog-title" }, text),
      h(
        "div",
        { class: "button-row" },
        h("button", { type: "button", class: "button", value: "yes", onclick: () => dialog.close("yes") }, confirmText),
        h(
          "button",
          { type: "button", class: "button button-secondary", onclick: () => dialog.close("no") },
          cancelText,
        ),
      ),
    );
    const opener = document.activeElement as HTMLElement | null;
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Key/value rows (a description list). */
export function facts(rows: [string, Child][]): HTMLElement {
  return h(
    "dl",
    { class: "facts" },
    ...rows.flatMap(([term, value]) => [h("dt", null, term), h("dd", null, value)]),
  );
}

export function visuallyHidden(text: string): HTMLElement {
  return h("span", { class: "visually-hidden" }, text);
}

let flash: { kind: NoticeKind; text: string } | null = null;

/** A message for the next page shown (e.g. "Your case has been sent" after navigating to the case). */
export function setFlash(kind: NoticeKind, text: string): void {
  flash = { kind, text };
}

export function takeFlash(): HTMLElement | null {
  const taken = flash;
  flash = null;
  return taken ? notice(taken.kind, h("p", null, taken.text)) : null;
}
