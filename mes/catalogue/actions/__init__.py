"""The Catalogue de services' state changes (mes-spec §8, wave2.md §1.4, portal.md §5.5), one
module per side, as zulip's zerver/actions/ does:

- citizen: browse the catalogue, report a service, and on the current profile see the services
  synchronisés, change their consents, approve new rights, unpair;
- operator: reference services, their purposes and logos, change their status, publish new
  rights, close reports;
- shared: the traced refusal and the plain-French lines of what a purpose exchanges.

Every action is keyword-only with `actor` first, checks its own policy and writes its trace;
refusals look like "not found". The pairing itself (OAuth, the consent page) is
mes.catalogue.pairing.
"""
