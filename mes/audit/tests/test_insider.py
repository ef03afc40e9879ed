"""Someone who can write to the database tries to rewrite the trace (issue 13 item 2): every
attempt is named by `mes audit verify`."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mes.audit import integrity, keys, trace
from mes.audit.models import ChainHead, Trace, TraceAction


def _rows(actor: Any, patient_id: Any, n: int = 3) -> None:
    for _ in range(n):
        trace.record(actor=actor, action=TraceAction.CONSULT_DOSSIER, patient_id=patient_id)


def _verify(capsys: Any) -> str:
    """Run `mes audit verify`; return what it named (it must fail)."""
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    return capsys.readouterr().err


def _verifies(capsys: Any) -> str:
    call_command("audit", "verify")
    return capsys.readouterr().out


def _sql(query: str, params: list[Any]) -> None:
    with connection.cursor() as cur:
        cur.execute(query, params)


def _recompute(chain: str, *, key: keys.AuditKey | None, from_seq: int = 1) -> None:
    """What the insider does after changing a row: recompute every later link and the head,
    with the old public algorithm (no key) or with a key he stole."""
    prev = trace.GENESIS
    for row in Trace.objects.filter(chain=chain).order_by("seq"):
        if row.seq >= from_seq:
            row.prev_hash = prev
            if key is None:
                row.key_id = ""
                row.hash = trace.legacy_row_hash(row, prev)
            else:
                row.key_id = key.key_id
                row.hash = trace.row_hash(row, prev, key)
            _sql(
                "UPDATE audit_trace SET prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
                [row.prev_hash, row.hash, row.key_id, row.pk],
            )
        prev = row.hash
    _sql("UPDATE audit_chainhead SET hash = %s WHERE chain = %s", [prev, chain])


def test_an_intact_trace_verifies_with_and_without_checkpoints(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    assert "aucune altération ; aucun point de contrôle" in _verifies(capsys)
    call_command("audit", "checkpoint")
    assert "Point de contrôle n°1 publié" in capsys.readouterr().out
    _rows(camille_actor, camille.pk, 2)  # rows after the checkpoint are fine
    assert "dernier point de contrôle : n°1" in _verifies(capsys)


def test_rows_carry_the_id_of_their_key_never_the_key(camille, camille_actor):
    row = trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    ring = keys.keyring()
    assert row.key_id == ring.current.key_id
    assert base64.b64encode(ring.current.secret).decode() not in row.key_id


def test_rewriting_a_row_and_recomputing_the_chain_without_the_key(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    chain = str(camille.pk)
    second = Trace.objects.get(chain=chain, seq=2)
    _sql("UPDATE audit_trace SET actor_name = %s WHERE id = %s", ["Quelqu'un d'autre", second.pk])
    _recompute(chain, key=None, from_seq=2)
    err = _verify(capsys)
    assert f"Chaîne {chain} : ligne n°2 (id {second.pk}) : ligne non scellée" in err
    # A key of his own is no better.
    _recompute(chain, key=keys.AuditKey("0123456789abcdef", secrets.token_bytes(32)), from_seq=2)
    err = _verify(capsys)
    assert "ligne n°2" in err and "scellée par une clé inconnue (0123456789abcdef)" in err


def test_rewriting_with_the_stolen_key_is_named_by_the_checkpoint(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    chain = str(camille.pk)
    first = Trace.objects.get(chain=chain, seq=1)
    _sql("UPDATE audit_trace SET action = 'CONNEXION' WHERE id = %s", [first.pk])
    _recompute(chain, key=keys.keyring().current)
    assert trace.verify_chain(chain) is not None
    err = _verify(capsys)
    assert "ligne n°3" in err and "ligne réécrite : diffère du point de contrôle n°1" in err


def test_truncating_a_chain_is_named(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk, 4)
    call_command("audit", "checkpoint")
    chain = str(camille.pk)
    third = Trace.objects.get(chain=chain, seq=3)
    _sql("DELETE FROM audit_trace WHERE chain = %s AND seq >= 3", [chain])
    _sql("UPDATE audit_chainhead SET seq = 2, hash = %s WHERE chain = %s", [third.prev_hash, chain])
    err = _verify(capsys)
    assert f"Chaîne {chain} : ligne n°3 : chaîne tronquée" in err
    assert "point de contrôle n°1" in err and "attestait 4 ligne(s), il en reste 2" in err


def test_deleting_a_whole_chain_is_named(camille, camille_actor, bob, capsys):
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    chain = str(camille.pk)
    _sql("DELETE FROM audit_trace WHERE chain = %s", [chain])
    _sql("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    err = _verify(capsys)
    assert f"Chaîne {chain} : ligne n°1 : chaîne supprimée" in err


def test_deleting_a_chain_and_its_citizen_leaves_the_checkpoint_to_name_it(
    camille, camille_actor, capsys
):
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    chain = str(camille.pk)
    _sql("DELETE FROM audit_trace WHERE chain = %s", [chain])
    # Without a head row and without the checkpoint, nothing would remember the chain.
    _sql("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    assert chain in integrity.every_chain(integrity.checkpoints.read_state())


def test_deleting_the_head_row_hides_nothing(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    chain = str(camille.pk)
    second = Trace.objects.get(chain=chain, seq=2)
    _sql("UPDATE audit_trace SET reason = 'effacé' WHERE id = %s", [second.pk])
    _sql("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    err = _verify(capsys)
    assert f"Chaîne {chain} : ligne n°2 (id {second.pk}) : contenu modifié" in err


def test_a_deleted_head_alone_is_named_and_appending_still_works(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    chain = str(camille.pk)
    _sql("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    assert f"Chaîne {chain} : ligne n°3 : tête de chaîne supprimée" in _verify(capsys)
    # The next access does not collide with the rows already there: it continues the chain.
    row = trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    assert row.seq == 4
    _verifies(capsys)


def test_appending_a_forged_row_is_named(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    chain = str(camille.pk)
    last = Trace.objects.get(chain=chain, seq=3)
    forged = Trace(
        chain=chain,
        seq=4,
        at=last.at,
        patient_id=camille.pk,
        action=TraceAction.CONSULT_DOC,
        outcome="allowed",
        actor_kind="citizen",
        actor_id="x",
        actor_name="Camille",
        access_mode="normal",
        prev_hash=last.hash,
        key_id=last.key_id,  # he copies a real key id, but has no key
    )
    forged.hash = trace.row_hash(forged, last.hash, keys.AuditKey(last.key_id, b"k" * 32))
    forged.save()
    _sql("UPDATE audit_chainhead SET seq = 4, hash = %s WHERE chain = %s", [forged.hash, chain])
    assert f"Chaîne {chain} : ligne n°4 (id {forged.pk}) : contenu modifié" in _verify(capsys)


def test_a_checkpoint_never_blesses_a_tampered_chain(camille, camille_actor, bob, capsys):
    _rows(camille_actor, camille.pk)
    _rows(camille_actor, bob.pk)
    row = Trace.objects.get(chain=str(camille.pk), seq=1)
    _sql("UPDATE audit_trace SET actor_name = 'X' WHERE id = %s", [row.pk])
    with pytest.raises(CommandError):
        call_command("audit", "checkpoint")
    captured = capsys.readouterr()
    assert "laissée hors du point de contrôle" in captured.err
    published = json.loads(next(Path(keys.settings.MES_AUDIT_CHECKPOINT_DIR).iterdir()).read_text())
    assert list(published["chains"]) == [str(bob.pk)]


def test_a_checkpoint_altered_forged_or_removed_is_named(camille, camille_actor, capsys):
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    capsys.readouterr()
    folder = Path(keys.settings.MES_AUDIT_CHECKPOINT_DIR)
    second = folder / "checkpoint-00000002.json"
    doc = json.loads(second.read_text())
    doc["chains"][str(camille.pk)][0] = 3  # claims fewer rows, to cover a truncation
    second.chmod(0o644)
    second.write_text(json.dumps(doc))
    assert "Points de contrôle : point de contrôle n°2 : signature invalide" in _verify(capsys)
    (folder / "checkpoint-00000001.json").unlink()
    second.unlink()
    (folder / "checkpoint-00000003.json").write_text("{}")
    err = _verify(capsys)
    assert "point(s) de contrôle n°1 à n°2 manquant(s)" in err


def test_checkpoints_are_never_overwritten(camille, camille_actor):
    _rows(camille_actor, camille.pk)
    first = integrity.write_checkpoint()
    assert first.path is not None and first.path.stat().st_mode & 0o222 == 0
    state = integrity.checkpoints.read_state()
    state.last_number = 0  # a second writer that read the folder before the first one wrote
    with pytest.raises(FileExistsError):
        integrity.checkpoints.append(state, {}, 0)


def test_key_rotation(camille, camille_actor, settings, capsys):
    """A new key first, the old one after it: old rows and checkpoints still verify, new rows
    are sealed with the new key; dropping the old key too early is named."""
    old = settings.MES_AUDIT_KEY
    _rows(camille_actor, camille.pk)
    call_command("audit", "checkpoint")
    new = base64.b64encode(secrets.token_bytes(32)).decode()
    settings.MES_AUDIT_KEY = f"{new},\n{old}"
    row = trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    assert (
        row.key_id == keys.key_id_of(base64.b64decode(new)) != keys.key_id_of(base64.b64decode(old))
    )
    call_command("audit", "checkpoint")
    assert "dernier point de contrôle : n°2" in _verifies(capsys)
    settings.MES_AUDIT_KEY = new
    err = _verify(capsys)
    assert "ligne n°1" in err and "scellée par une clé inconnue" in err
    assert "point de contrôle n°1 : signé par une clé inconnue" in err


@pytest.mark.parametrize(
    "raw",
    ["", "pas du base64 !", base64.b64encode(b"court").decode()],
    ids=["vide", "b64", "court"],
)
def test_bad_keys_are_refused(raw):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="MES_AUDIT_KEY"):
        keys.parse_keys(raw)


def test_the_key_can_live_in_a_file(settings, tmp_path, camille, camille_actor, capsys):
    key_file = tmp_path / "audit.key"
    key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    settings.MES_AUDIT_KEY = ""
    settings.MES_AUDIT_KEY_FILE = str(key_file)
    row = trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    assert row.key_id == keys.key_id_of(base64.b64decode(key_file.read_text()))
    _verifies(capsys)


def test_chain_heads_of_the_table_not_of_the_head_table(camille, camille_actor):
    _rows(camille_actor, camille.pk)
    ChainHead.objects.filter(chain=str(camille.pk)).delete()
    report = integrity.write_checkpoint()
    assert report.chains == 1
