"""Messagerie: the MSSanté directory, conversations, messages, attachments (mes-spec §7)."""
