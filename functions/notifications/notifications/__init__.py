"""Notifications: content-free SMS and e-mail about new things in the e-services."""
