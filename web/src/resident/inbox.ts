// The inbox: messages external systems sent (newest or unread first, inbox or archive), one message
// (reading it marks it read; its body comes as blocks, rendered as text, never as HTML), mark unread,
// archive, delete.

import { api } from "../api";
import { fill, h, type Child } from "../dom";
import { scriptForm } from "../forms";
import { formatDate, formatDateTime, t, type Key } from "../i18n";
import { orMissing, pagedList } from "../page-data";
import { link, navigate, type PageContext } from "../router";
import { button, confirmDialog, facts, pageHeading, problemNotice, selectField, setFlash, takeFlash } from "../ui";
import { acting, type Patient } from "./context";
import type { Block, Message, MessageSummary, Page, Span } from "./types";

const CATEGORIES = ["call-up", "result", "information", "vaccination", "reminder", "questionnaire"];

function categoryText(category: string): string {
  return CATEGORIES.includes(category) ? t(`inbox.category.${category}` as Key) : category;
}

function inboxPath(patient: Patient): string {
  return `/v1/patients/${encodeURIComponent(patient.patient_id)}/inbox`;
}

export async function inboxPage({ main, query }: PageContext): Promise<void> {
  const { patient } = await acting();
  const archived = query.get("archived") === "true";
  const order = query.get("order") === "unread-first" ? "unread-first" : "newest";
  const list = h("ul", { class: "item-list message-list", "aria-labelledby": "messages-title" });
  const more = h("div");
  const load = (cursor: string | null) =>
    api<Page<MessageSummary>>("GET", inboxPath(patient), { query: { archived: String(archived), order, limit: 20, cursor } });
  const show = pagedList({ list, more, label: t("common.show-more"), item: messageItem, next: load });
  show(await load(null));
  const sort = selectField({
    name: "order",
    label: t("inbox.order"),
    value: order,
    options: [
      { value: "newest", label: t("inbox.order-newest") },
      { value: "unread-first", label: t("inbox.order-unread") },
    ],
  });
  fill(
    main,
    takeFlash(),
    ...pageHeading(t("inbox.title"), t("inbox.lead", { name: patient.name })),
    h(
      "nav",
      { class: "tabs", "aria-label": t("inbox.folders") },
      link("/inbox", { class: "tab", "aria-current": archived ? null : "page" }, t("inbox.inbox")),
      link("/inbox?archived=true", { class: "tab", "aria-current": archived ? "page" : null }, t("inbox.archive")),
    ),
    scriptForm(
      { class: "form form-inline" },
      () => {
        const params = new URLSearchParams();
        if (archived) params.set("archived", "true");
        if (sort.select.value !== "newest") params.set("order", sort.select.value);
        navigate(`/inbox${params.size ? `?${params}` : ""}`);
      },
      sort.element,
      h("button", { type: "submit", class: "button button-secondary" }, t("inbox.sort")),
    ),
    h("h2", { id: "messages-title" }, archived ? t("inbox.archive") : t("inbox.messages")),
    list.children.length ? list : h("p", null, archived ? t("inbox.archive-empty") : t("inbox.empty")),
    more,
  );
}

function messageItem(message: MessageSummary): HTMLElement {
  return h(
    "li",
    { class: message.read ? "item message-item" : "item message-item unread" },
    h(
      "h3",
      { class: "item-title" },
      message.read ? null : h("span", { class: "badge" }, t("inbox.unread")),
      message.read ? null : " ",
      link(`/inbox/${encodeURIComponent(message.message_id)}`, null, message.subject),
    ),
    h(
      "p",
      { class: "meta" },
      message.sender.care_unit_name,
      " · ",
      categoryText(message.category),
      " · ",
      h("time", { datetime: message.sent_at }, formatDateTime(message.sent_at)),
    ),
  );
}

export async function messagePage({ main, params }: PageContext): Promise<void> {
  const { patient } = await acting();
  const path = `${inboxPath(patient)}/${encodeURIComponent(params.messageId ?? "")}`;
  const message = await orMissing(api<Message>("GET", path), main, () => [
    ...pageHeading(t("inbox.missing")),
    h("p", null, t("inbox.missing-text")),
    link("/inbox", null, t("inbox.back")),
  ]);
  if (!message) return;
  const slot = h("div");
  const change = async (body: Record<string, boolean>, done: string): Promise<void> => {
    try {
      await api("PATCH", path, { body });
      setFlash("success", done);
      navigate(message.archived && body.archived === false ? "/inbox?archived=true" : "/inbox");
    } catch (error) {
      fill(slot, problemNotice(error));
    }
  };
  fill(
    main,
    ...pageHeading(message.subject),
    facts([
      [t("inbox.from"), message.sender.care_unit_name],
      [t("inbox.sent"), formatDateTime(message.sent_at)],
      [t("inbox.category"), categoryText(message.category)],
      ...(message.expires_at ? [[t("inbox.expires"), formatDate(message.expires_at)] as [string, string]] : []),
    ]),
    h("article", { class: "message-body", "aria-label": t("inbox.body") }, ...message.body_blocks.map(block)),
    message.replyable ? null : h("p", { class: "hint" }, t("inbox.not-replyable")),
    slot,
    h(
      "div",
      { class: "button-row" },
      button(t("inbox.mark-unread"), { class: "button button-secondary", onclick: () => void change({ read: false }, t("inbox.marked-unread")) }),
      message.archived
        ? button(t("inbox.unarchive"), { class: "button button-secondary", onclick: () => void change({ archived: false }, t("inbox.unarchived")) })
        : button(t("inbox.to-archive"), { class: "button button-secondary", onclick: () => void change({ archived: true }, t("inbox.archived")) }),
      button(t("inbox.delete"), {
        class: "button button-warning",
        onclick: async () => {
          if (!(await confirmDialog(t("inbox.delete-confirm"), t("inbox.delete")))) return;
          try {
            await api("DELETE", path);
            setFlash("success", t("inbox.deleted"));
            navigate("/inbox");
          } catch (error) {
            fill(slot, problemNotice(error));
          }
        },
      }),
    ),
    h("p", null, link(message.archived ? "/inbox?archived=true" : "/inbox", null, t("inbox.back"))),
  );
}

function block(b: Block): HTMLElement {
  if (b.type === "list") return h("ul", null, ...b.items.map((item) => h("li", null, ...item.map(span))));
  return h("p", null, ...b.spans.map(span));
}

function span(s: Span): Child {
  if (s.href && s.href.startsWith("https://")) {
    return h("a", { href: s.href, rel: "noopener noreferrer", target: "_blank" }, s.text, h("span", { class: "visually-hidden" }, ` (${t("common.new-window")})`));
  }
  return s.strong ? h("strong", null, s.text) : s.text;
}
