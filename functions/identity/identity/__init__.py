"""Identity and access: who is logged in and whom they may act for."""
