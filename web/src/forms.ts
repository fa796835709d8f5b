// Submitting the pages' forms. Fields are checked in script (novalidate: the error summary, not the browser's
// own bubbles, says what is wrong); the problems are marked on their fields and listed in a summary that gets
// focus, and a 400's invalid_params go back onto the fields they name. Loaded with the pages, not the shell.

import { ApiError } from "./api";
import { fill, h, type Attrs, type Child } from "./dom";
import { errorSummary, problemNotice, type Field } from "./ui";

export interface Problem {
  field: Field | null;
  message: string;
}

/** A form whose `submit` runs in place of the browser's submission. */
export function scriptForm(attrs: Attrs, submit: () => unknown, ...children: Child[]): HTMLFormElement {
  return h(
    "form",
    {
      ...attrs,
      onsubmit: (event: Event) => {
        event.preventDefault();
        void submit();
      },
    },
    ...children,
  );
}

/** The usual page form: checked in script, `submit` in place of the browser's submission. */
export function checkedForm(submit: () => unknown, ...children: Child[]): HTMLFormElement {
  return scriptForm({ class: "form", novalidate: true }, submit, ...children);
}

export function submitButton(text: string): HTMLButtonElement {
  return h("button", { type: "submit", class: "button button-primary" }, text);
}

/** The error summary in `slot`, focused so it is read out first. */
export function showSummary(slot: HTMLElement, problems: Problem[]): void {
  const box = errorSummary(problems);
  fill(slot, box);
  box.focus();
}

/** Each problem's message on its field, and all of them in the summary in `slot`. */
export function showProblems(slot: HTMLElement, problems: Problem[]): void {
  for (const p of problems) p.field?.setError(p.message);
  showSummary(slot, problems);
}

/** A message in `slot` that takes focus, so it is read out at once. */
export function showNotice(slot: HTMLElement, box: HTMLElement): void {
  box.setAttribute("tabindex", "-1");
  fill(slot, box);
  box.focus();
}

/** A 400 naming fields: marks each field it names and lists them in `slot` (true); anything else: false. */
export function showInvalidParams(error: unknown, slot: HTMLElement, fieldFor: (name: string) => Field | null): boolean {
  if (!(error instanceof ApiError && error.status === 400 && error.invalidParams.length)) return false;
  showProblems(slot, error.invalidParams.map((p) => ({ field: fieldFor(p.name), message: p.reason })));
  return true;
}

/** A failed submission: a 400 naming fields marks them; any other problem becomes a focused message at the
 *  top (`describe` says it; the resident pages' default, the staff pages name the commission on a 403). */
export function serverProblems(
  error: unknown,
  slot: HTMLElement,
  fieldFor: (name: string) => Field | null,
  describe: (error: unknown) => HTMLElement = problemNotice,
): void {
  if (!showInvalidParams(error, slot, fieldFor)) showNotice(slot, describe(error));
}
