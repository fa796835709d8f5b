// Attachments to a case or a reply: each file is announced to the API (POST /v1/patients/{id}/attachments),
// which answers a presigned S3 POST; the browser uploads the bytes straight to the bucket; the case or
// message then names the attachment ids, and the server checks the bytes before accepting them.

import { api } from "../api";
import { fill, h, uid } from "../dom";
import { t } from "../i18n";
import { button, optionalMark, problemText, setFieldError, type Field } from "../ui";

const TYPES = ["image/jpeg", "image/png", "application/pdf"];
const MAX_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 5;

interface Upload {
  attachment_id: string;
  upload: { url: string; fields: Record<string, string> };
}

interface Item {
  file: File;
  id: string | null;
  state: "uploading" | "done" | "failed";
  message: string;
}

export interface AttachmentsField extends Field {
  ids(): string[];
  busy(): boolean;
  /** Files that could not be uploaded and are still listed. */
  failed(): boolean;
  clear(): void;
}

export function attachmentsField(patientId: string): AttachmentsField {
  const id = uid("attachments");
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const items: Item[] = [];
  const list = h("ul", { class: "file-list", "aria-live": "polite" });
  const input = h("input", {
    id,
    type: "file",
    multiple: true,
    accept: TYPES.join(","),
    class: "file-input",
    "aria-describedby": hintId,
    onchange: () => {
      const files = Array.from(input.files ?? []);
      input.value = "";
      for (const file of files) void add(file);
    },
  });
  const element = h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "label" }, t("attach.label"), optionalMark()),
    h("p", { id: hintId, class: "hint" }, t("attach.hint", { max: MAX_FILES })),
    error,
    input,
    list,
  );

  function render(): void {
    fill(
      list,
      ...items.map((item) =>
        h(
          "li",
          { class: `file file-${item.state}` },
          h("span", { class: "file-name" }, item.file.name),
          " ",
          h("span", { class: "file-state" }, item.message),
          " ",
          item.state !== "uploading"
            ? button(t("attach.remove"), {
                class: "link-button",
                "aria-label": t("attach.remove-named", { name: item.file.name }),
                onclick: () => {
                  items.splice(items.indexOf(item), 1);
                  render();
                  input.focus();
                },
              })
            : null,
        ),
      ),
    );
  }

  async function add(file: File): Promise<void> {
    const item: Item = { file, id: null, state: "uploading", message: t("attach.uploading") };
    if (items.length >= MAX_FILES) {
      setError(t("attach.too-many", { max: MAX_FILES }));
      return;
    }
    if (!TYPES.includes(file.type)) {
      item.state = "failed";
      item.message = t("attach.bad-type");
    } else if (file.size < 1 || file.size > MAX_BYTES) {
      item.state = "failed";
      item.message = t("attach.bad-size");
    }
    items.push(item);
    render();
    if (item.state === "failed") return;
    try {
      const upload = await api<Upload>("POST", `/v1/patients/${encodeURIComponent(patientId)}/attachments`, {
        body: { content_type: file.type, size: file.size, filename: file.name.slice(0, 120) },
      });
      const form = new FormData();
      for (const [key, value] of Object.entries(upload.upload.fields)) form.append(key, value);
      form.append("file", file);
      const response = await fetch(upload.upload.url, { method: "POST", body: form, credentials: "omit" });
      if (!response.ok) throw new Error(`upload answered ${response.status}`);
      item.id = upload.attachment_id;
      item.state = "done";
      item.message = t("attach.done");
    } catch (failure) {
      item.state = "failed";
      item.message = failure instanceof Error && failure.message.startsWith("upload") ? t("attach.failed") : problemText(failure);
    }
    render();
  }

  function setError(message: string | null): void {
    setFieldError(element, error, [input], message, hintId, errorId);
  }

  return {
    element,
    focusTarget: input,
    id,
    label: t("attach.label"),
    setError,
    ids: () => items.filter((i) => i.state === "done" && i.id).map((i) => i.id as string),
    busy: () => items.some((i) => i.state === "uploading"),
    failed: () => items.some((i) => i.state === "failed"),
    clear: () => {
      items.length = 0;
      render();
    },
  };
}

/** Fetch a short-lived download link for an attachment and follow it (the browser saves the file). */
export async function download(patientId: string, caseId: string, attachmentId: string): Promise<void> {
  const { url } = await api<{ url: string }>(
    "GET",
    `/v1/patients/${encodeURIComponent(patientId)}/cases/${encodeURIComponent(caseId)}/attachments/${encodeURIComponent(attachmentId)}`,
  );
  location.assign(url);
}
