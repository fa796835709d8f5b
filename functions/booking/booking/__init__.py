"""Web time booking: clinics publish bookable times; residents book, rebook and cancel them."""
