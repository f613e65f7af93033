"""Slot and entity names shared by the actions and the domain."""

from support_requests.conversations import HANDOFF_SLOT, HITS_SLOT, NEED_SLOT

NEED = NEED_SLOT
AWAITING_CLARIFICATION = "awaiting_clarification"
SITE = "site"
ENTRY_TYPES = "entry_types"
POSITION = "position"
REFERENCE = "reference"
LAST_HITS = HITS_SLOT
SHOWN_IDS = "shown_ids"
SELECTED_ENTRY = "selected_entry"
HANDOFF_REQUESTED = HANDOFF_SLOT
LANGUAGE = "language"

COMPANY_NAME = "company_name"
CONTACT_PERSON = "contact_person"
EMAIL = "email"
PHONE = "phone"
ORG_NUMBER = "org_number"
NEED_SUMMARY = "need_summary"
CHOSEN_ENTRIES = "chosen_entries"
CONSENT = "consent"
CONFIRMATION = "confirmation"
FORM_FAILURES = "form_failures"
REQUEST_REFERENCE = "request_reference"

FORM_SLOTS = (COMPANY_NAME, CONTACT_PERSON, EMAIL, PHONE, ORG_NUMBER, NEED_SUMMARY, CONSENT, CONFIRMATION)
