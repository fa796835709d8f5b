// What the staff API answers, as far as the staff pages read it (functions/cases/cases/api.py,
// functions/booking/booking/api.py; the shapes are in their api_schemas.py).

import type { Bilingual } from "../i18n";
import type { CaseStatus, CaseSummary } from "../resident/types";

// A case's status and summary are the same for residents and staff.
export { OPEN_STATUSES, type CaseStatus, type Page } from "../resident/types";
export const CASE_STATUSES: CaseStatus[] = ["waiting_for_staff", "waiting_for_resident", "closed", "withdrawn"];

export interface QueueItem extends CaseSummary {
  patient_name: string | null;
  assignee_hsa_id: string | null;
}

export interface Attachment {
  attachment_id: string;
  content_type: string;
  size: number;
  filename: string;
}

export interface Author {
  kind: "resident" | "staff";
  name: string;
  relation?: "self" | "guardian";
  hsa_id?: string;
  care_unit_hsa_id?: string;
}

export interface CaseMessage {
  kind: string;
  text: string;
  attachments?: Attachment[];
  author: Author;
  sent_at: string;
}

export interface StaffCase extends QueueItem {
  form_version: number;
  answers: Record<string, unknown>;
  attachments: Attachment[];
  created_by: Author;
  decision: {
    outcome: "approved" | "denied";
    renewed?: string[] | null;
    decided_at: string;
    decided_by?: Author;
  } | null;
  prescription: { status: string } | null;
  messages?: CaseMessage[];
}

export interface FormField {
  id: string;
  type: string;
  label: Bilingual;
  options?: { value: string; label: Bilingual }[];
}

export interface UnitCaseType {
  id: string;
  name: Bilingual;
  active?: boolean;
  form?: { version: number; fields: FormField[] };
}

export interface UnitCaseTypes {
  configured: UnitCaseType[];
}

export interface StandardAnswer {
  id: string;
  text: Bilingual;
}

export interface BookingSettings {
  active: boolean;
  system: "built-in" | "external";
  deadline_hours: number;
  horizon_days: number;
  web: { book: boolean; rebook: boolean; cancel: boolean };
  max_active: number;
  eligibility: { min_age: number | null; max_age: number | null; regions: string[] };
}

export interface UnitBookingType {
  booking_type: string;
  name: Bilingual;
  duration_minutes: number;
  category: string;
  settings: BookingSettings | null;
}

export interface BookableTime {
  time_id: string;
  start: string;
  end: string;
  capacity: number;
  booked: number;
  open: boolean;
}

export interface UnitAppointment {
  appointment_id: string;
  patient_id: string;
  patient_name: string;
  booking_type: string;
  booking_type_name: Bilingual | null;
  status: "active" | "cancelled";
  booked_by: { relation: string; name: string };
  start: string;
  end: string;
}
