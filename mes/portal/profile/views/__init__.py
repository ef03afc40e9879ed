"""Profil médical (portal.md §2, §6), one module per area: `home` (the home, the identity
card), `entries` (the list rubrics), `blood_group`, `professionals`, `organ_donation`,
`lifestyle`; `words` says how each rubric and entry is shown, `common` whose profile it is.

Each view resolves through one policy or action of mes.medical_profile; refusals raise NotFound
and look exactly like an entry that does not exist. Texts speak in the first person on one's own
profile, in the third person when a parent acts for a child (request.is_own_profile False).
"""
