// What residents and staff both see of a case: its thread (the messages, oldest first), its files (each a
// button that downloads it) and the sections that do one thing to it (withdraw, close, reopen). What differs
// between them (names, texts, the requests, how a problem is told) is passed in. Loaded with the case pages.

import { fill, h, type Child } from "./dom";
import { formatDateTime } from "./i18n";
import { refresh } from "./router";
import { button, confirmDialog, setFlash } from "./ui";

/** A case's message, as far as the thread reads it. */
export interface ThreadMessage {
  author: { kind: string };
  sent_at: string;
}

/** The thread section; `show` says whose each message is, its note, its text and its files. */
export function threadSection<M extends ThreadMessage>(
  messages: M[],
  texts: { title: string; empty: string },
  show: { author(m: M): string; note(m: M): string | null; text(m: M): string; attachments(m: M): Child },
): HTMLElement {
  return h(
    "section",
    { class: "section", "aria-labelledby": "thread-title" },
    h("h2", { id: "thread-title" }, texts.title),
    messages.length
      ? h(
          "ol",
          { class: "thread" },
          ...messages.map((m) =>
            h(
              "li",
              { class: m.author.kind === "staff" ? "message message-staff" : "message message-resident" },
              h(
                "p",
                { class: "message-meta" },
                h("strong", null, show.author(m)),
                " · ",
                h("time", { datetime: m.sent_at }, formatDateTime(m.sent_at)),
                show.note(m) ? ` · ${show.note(m)}` : null,
              ),
              h("p", { class: "message-text" }, show.text(m)),
              show.attachments(m),
            ),
          ),
        )
      : h("p", null, texts.empty),
  );
}

/** A section with one thing to do to the case (withdraw, close, reopen): a heading, what it means, and its
 *  button; when `confirm` is given the user is asked first. Done, the page shows again with `done` on top;
 *  failed, `failed` says why under the button. */
export function caseAction(action: {
  id: string;
  title: string;
  text: string;
  label: string;
  buttonClass: string;
  confirm?: string;
  request: () => Promise<unknown>;
  done: string;
  failed: (error: unknown) => HTMLElement;
}): HTMLElement {
  const slot = h("div");
  return h(
    "section",
    { class: "section", "aria-labelledby": action.id },
    h("h2", { id: action.id }, action.title),
    h("p", null, action.text),
    button(action.label, {
      class: action.buttonClass,
      onclick: async () => {
        if (action.confirm && !(await confirmDialog(action.confirm, action.label))) return;
        try {
          await action.request();
          setFlash("success", action.done);
          refresh();
        } catch (error) {
          fill(slot, action.failed(error));
        }
      },
    }),
    slot,
  );
}

export interface CaseFile {
  filename: string;
  size: number;
}

/** The files as a list of download buttons ("name (12 kB)"); `open` fetches one, `failed` says why it could not. */
export function fileList<F extends CaseFile>(
  files: F[],
  label: (file: F) => string,
  open: (file: F) => Promise<void>,
  failed: (error: unknown) => HTMLElement,
): Child {
  if (!files.length) return null;
  return h(
    "ul",
    { class: "file-list" },
    ...files.map((file) =>
      h(
        "li",
        { class: "file" },
        button(label(file), {
          class: "link-button",
          onclick: async (event: Event) => {
            const target = event.currentTarget as HTMLButtonElement;
            try {
              await open(file);
            } catch (error) {
              target.after(failed(error));
            }
          },
        }),
        h("span", { class: "meta" }, ` (${Math.max(1, Math.round(file.size / 1024))} kB)`),
      ),
    ),
  );
}
