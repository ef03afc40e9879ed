"""The MSSanté SMTP/LMTP gateway in and the relay out (interface: no business rules here)."""
