"""`opentic ledger witness` and `opentic ledger monitor` against a live server, over real HTTP."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from tests.conftest import CODE_A

from opentic.ledger import entry as entries
from opentic.ledger import sequencer
from opentic.ledger.keys import log_verifier
from opentic.ledger.note import COSIGNATURE_V1, Signer, verify_cosignature

pytestmark = pytest.mark.django_db(transaction=True)


def append(n: int, tag: str) -> None:
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        sequencer.sequence([entries.Entry(CODE_A, entries.commitment(CODE_A, f"{tag}{i}", "A" * 22), "0" * 64,
                                          "issued", "", now) for i in range(n)])


def test_witness_and_monitor_commands(live_server: object, settings: object, tmp_path: Path) -> None:
    witness = Signer.generate("witness.sc.example/w1", COSIGNATURE_V1)
    (tmp_path / "witness.key").write_text(witness.skey)
    settings.OPENTIC_LEDGER_WITNESSES = [witness.verifier.vkey]  # type: ignore[attr-defined]
    year = timezone.now().astimezone(dt.UTC).year
    url = f"{live_server}/ledger/{year}"
    append(300, "a")
    out = StringIO()
    call_command("ledger", "monitor", url, "--log-key", log_verifier().vkey, "--state", str(tmp_path / "m.json"),
                 stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1]) == {"size": 300, "new_entries": 300,
                                                          "by_event": {"issued": 300}}
    call_command("ledger", "witness", url, "--log-key", log_verifier().vkey, "--state", str(tmp_path / "w.json"),
                 "--key-file", str(tmp_path / "witness.key"), stdout=StringIO())
    append(20, "b")
    out = StringIO()
    call_command("ledger", "monitor", url, "--log-key", log_verifier().vkey, "--state", str(tmp_path / "m.json"),
                 stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["new_entries"] == 20
    call_command("ledger", "witness", url, "--log-key", log_verifier().vkey, "--state", str(tmp_path / "w.json"),
                 "--key-file", str(tmp_path / "witness.key"), stdout=StringIO())
    from urllib.request import urlopen

    note = urlopen(f"{url}/checkpoint").read().decode()
    assert note.split("\n")[1] == "320" and verify_cosignature(note, witness.verifier) > 0
    # A monitor pinned to another key refuses the log and raises the alarm.
    stranger = Signer.generate(log_verifier().name).verifier.vkey
    with pytest.raises(SystemExit) as alarm:
        call_command("ledger", "monitor", url, "--log-key", stranger, "--state", str(tmp_path / "x.json"),
                     stdout=StringIO(), stderr=StringIO())
    assert alarm.value.code == 2
