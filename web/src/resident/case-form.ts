// A case type's question form, rendered from its definition (contracts/form-definition.v1.schema.json) with
// the same rules the server applies (functions/cases/cases/forms.py): required answers, text lengths, single
// line text, options offered, number ranges, dates, Swedish phone numbers, and questions asked only when an
// earlier answer matches (`when`). The server checks again; its answers.<id> reasons land on the same fields.

import { h } from "../dom";
import { pick, t } from "../i18n";
import { choiceField, textField, type ChoiceField, type Field, type TextField } from "../ui";
import type { FormFieldDefinition } from "./types";

const TEXT_LIMITS = { text: 200, textarea: 2000 } as const;
const PHONE = /^(?:\+46|0)[0-9 -]*[0-9]$/;

interface Question {
  definition: FormFieldDefinition;
  field: Field;
  read(): unknown; // the answer as the API takes it; undefined when blank
}

export interface RenderedForm {
  element: HTMLElement;
  fields: Map<string, Field>;
  /** Check every asked question; returns the answers, or the problems (and marks the fields). */
  collect(): { answers: Record<string, unknown>; problems: { field: Field; message: string }[] };
}

export function renderForm(definitions: FormFieldDefinition[]): RenderedForm {
  const questions = definitions.map(question);
  const byId = new Map(questions.map((q) => [q.definition.id, q]));
  const element = h("div", { class: "case-form" }, ...questions.map((q) => q.field.element));

  const asked = (q: Question): boolean => {
    const when = q.definition.when;
    if (!when) return true;
    const target = byId.get(when.field);
    if (!target || !asked(target)) return false;
    const answer = target.read();
    const values = when.in ?? [when.equals];
    if (Array.isArray(answer)) return answer.some((a) => values.includes(a as string));
    return answer !== undefined && values.includes(answer as string | boolean);
  };
  const update = () => {
    for (const q of questions) q.field.element.hidden = !asked(q);
  };
  element.addEventListener("change", update);
  element.addEventListener("input", update);
  update();

  return {
    element,
    fields: new Map(questions.map((q) => [q.definition.id, q.field])),
    collect() {
      const answers: Record<string, unknown> = {};
      const problems: { field: Field; message: string }[] = [];
      for (const q of questions) {
        q.field.setError(null);
        if (!asked(q)) continue;
        const value = q.read();
        const message = check(q.definition, value);
        if (message) {
          q.field.setError(message);
          problems.push({ field: q.field, message });
        } else if (value !== undefined) {
          answers[q.definition.id] = normalise(q.definition, value);
        }
      }
      return { answers, problems };
    },
  };
}

function question(definition: FormFieldDefinition): Question {
  const label = pick(definition.label);
  const hint = definition.help ? pick(definition.help) : undefined;
  const name = `answer-${definition.id}`;
  switch (definition.type) {
    case "choice":
    case "multichoice": {
      const field = choiceField({
        name,
        legend: label,
        hint,
        required: definition.required,
        multiple: definition.type === "multichoice",
        options: (definition.options ?? []).map((o) => ({ value: o.value, label: pick(o.label) })),
      });
      return {
        definition,
        field,
        read: () => {
          const values = field.values();
          if (definition.type === "choice") return values[0];
          return values.length ? values : undefined;
        },
      };
    }
    case "boolean": {
      const field: ChoiceField = choiceField({
        name,
        legend: label,
        hint,
        required: definition.required,
        inline: true,
        options: [
          { value: "true", label: t("common.yes") },
          { value: "false", label: t("common.no") },
        ],
      });
      return {
        definition,
        field,
        read: () => {
          const value = field.values()[0];
          return value === undefined ? undefined : value === "true";
        },
      };
    }
    default: {
      const field: TextField = textField({
        name,
        label,
        hint: [hint, definition.type === "date" ? t("form.date-hint") : undefined].filter(Boolean).join(" ") || undefined,
        required: definition.required,
        multiline: definition.type === "textarea",
        type: definition.type === "date" ? "date" : definition.type === "phone" ? "tel" : "text",
        inputmode: definition.type === "number" ? "decimal" : undefined,
        autocomplete: definition.type === "phone" ? "tel" : undefined,
        width: definition.type === "textarea" || definition.type === "text" ? "full" : "short",
      });
      return {
        definition,
        field,
        read: () => {
          const raw = field.input.value.replace(/\r\n/g, "\n").trim();
          if (!raw) return undefined;
          if (definition.type === "number") {
            const number = Number(raw.replace(/\s/g, "").replace(",", "."));
            return Number.isFinite(number) ? number : raw;
          }
          return raw;
        },
      };
    }
  }
}

function check(definition: FormFieldDefinition, value: unknown): string | null {
  if (value === undefined) return definition.required ? t("form.required") : null;
  switch (definition.type) {
    case "text":
    case "textarea": {
      const text = value as string;
      const limit = definition.max_length ?? TEXT_LIMITS[definition.type];
      if (definition.type === "text" && text.includes("\n")) return t("form.single-line");
      if (text.length > limit) return t("form.too-long", { max: limit, count: text.length });
      return null;
    }
    case "multichoice": {
      const count = (value as string[]).length;
      if (definition.min_items !== undefined && count < definition.min_items) {
        return t("form.min-items", { min: definition.min_items });
      }
      if (definition.max_items !== undefined && count > definition.max_items) {
        return t("form.max-items", { max: definition.max_items });
      }
      return null;
    }
    case "number": {
      if (typeof value !== "number") return t("form.number");
      if (definition.min !== undefined && value < definition.min) return t("form.min", { min: definition.min });
      if (definition.max !== undefined && value > definition.max) return t("form.max", { max: definition.max });
      return null;
    }
    case "date":
      return /^\d{4}-\d{2}-\d{2}$/.test(value as string) && !Number.isNaN(Date.parse(value as string))
        ? null
        : t("form.date");
    case "phone": {
      const text = value as string;
      const digits = text.replace(/\D/g, "").length;
      return PHONE.test(text) && digits >= 7 && digits <= 15 ? null : t("form.phone");
    }
    default:
      return null;
  }
}

function normalise(definition: FormFieldDefinition, value: unknown): unknown {
  if (definition.type === "phone") return (value as string).replace(/[\s-]/g, "");
  return value;
}

/** The question's label for an answer shown later (the case page), by field id. */
export function answerText(definition: FormFieldDefinition | undefined, value: unknown): string {
  if (definition?.options && typeof value === "string") {
    return pick(definition.options.find((o) => o.value === value)?.label) || value;
  }
  if (definition?.options && Array.isArray(value)) {
    return value.map((v) => pick(definition.options?.find((o) => o.value === v)?.label) || String(v)).join(", ");
  }
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  return String(value);
}
