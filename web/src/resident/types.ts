// What the API answers, as far as the resident pages read it (see functions/*/*/api.py).

import { t, type Bilingual } from "../i18n";

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Clinic {
  id: string;
  name: string;
  kind: string;
  region: { code: string; name: string };
  municipality: { code: string; name: string };
  location?: { lat: number; lon: number };
  distance_km?: number;
}

export interface ClinicDetail extends Clinic {
  active: boolean;
  care_provider: { id: string; name: string };
  address?: { street?: string; postal_code?: string; city?: string };
  phone?: string | null;
  opening_hours?: { day: string; opens: string; closes: string }[];
  opening_hours_note?: string | null;
}

export interface MessageSummary {
  message_id: string;
  category: string;
  subject: string;
  sender: { care_unit_hsa_id: string; care_unit_name: string };
  sent_at: string;
  read: boolean;
  archived: boolean;
  replyable: boolean;
  expires_at: string | null;
}

export interface Span {
  text: string;
  strong?: boolean;
  href?: string;
}

export type Block = { type: "paragraph"; spans: Span[] } | { type: "list"; items: Span[][] };

export interface Message extends MessageSummary {
  body_blocks: Block[];
  read_at: string | null;
}

export type CaseStatus = "waiting_for_staff" | "waiting_for_resident" | "closed" | "withdrawn";
export const OPEN_STATUSES: CaseStatus[] = ["waiting_for_staff", "waiting_for_resident"];

export interface CaseSummary {
  case_id: string;
  patient_id: string;
  clinic: { hsa_id: string; name: string | null };
  case_type: { id: string; name: Bilingual | null };
  status: CaseStatus;
  created_at: string;
  updated_at: string;
  due_at: string | null;
  closed_at: string | null;
}

export interface AttachmentInfo {
  attachment_id: string;
  content_type: string;
  size: number;
  filename: string;
}

export interface CaseMessage {
  kind: string;
  text: string;
  attachments: AttachmentInfo[];
  author: { kind: "resident" | "staff"; name?: string; relation?: string };
  sent_at: string;
}

export interface CaseDetail extends CaseSummary {
  form_version: number;
  answers: Record<string, unknown>;
  attachments: AttachmentInfo[];
  created_by: { kind: string; name?: string; relation?: string };
  decision: Record<string, unknown> | null;
  prescription: { status: string } | null;
  messages?: CaseMessage[];
}

export interface FormFieldDefinition {
  id: string;
  type: "text" | "textarea" | "choice" | "multichoice" | "boolean" | "date" | "number" | "phone";
  label: Bilingual;
  required: boolean;
  help?: Bilingual;
  options?: { value: string; label: Bilingual }[];
  max_length?: number;
  min?: number;
  max?: number;
  min_items?: number;
  max_items?: number;
  when?: { field: string; equals?: string | boolean; in?: (string | boolean)[] };
}

export interface CaseType {
  id: string;
  standard: boolean;
  name: Bilingual;
  description: Bilingual;
  category: string;
  terms: Bilingual | null;
  answer_days: number;
  form: { version: number; fields: FormFieldDefinition[] };
}

export interface BookingType {
  booking_type: string;
  name: Bilingual;
  duration_minutes: number;
  category: string;
}

export interface BookableTime {
  time_id: string;
  booking_type: string;
  start: string;
  end: string;
  free: number;
  clinic: { id: string; name: string; region: string; distance_km?: number };
}

export interface Appointment {
  appointment_id: string;
  patient_id: string;
  unit_hsa_id: string;
  unit_name: string;
  booking_type: string;
  booking_type_name: Bilingual | null;
  status: "active" | "cancelled";
  start: string;
  end: string;
  booked_at: string;
  time_id: string;
  cancelled_at?: string;
}

export function statusText(status: CaseStatus): string {
  switch (status) {
    case "waiting_for_staff":
      return t("case.status.waiting_for_staff");
    case "waiting_for_resident":
      return t("case.status.waiting_for_resident");
    case "closed":
      return t("case.status.closed");
    case "withdrawn":
      return t("case.status.withdrawn");
  }
}
