"""Signed notes, checkpoints and cosignatures.

Known answers: the example key and note of golang.org/x/mod/sumdb/note (the reference implementation
of c2sp.org/signed-note) and the verifier-key example of the C2SP signed-note specification. Ed25519
is deterministic, so signing the same text with the same key must give the same bytes.
"""

import pytest

from opentic.ledger.note import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    cosign,
    format_note,
    open_checkpoint,
    sign,
    verify_cosignature,
    verify_note,
)

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
                     "tpRZb6KE6RyyBwJnAM=\n")
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7"
             "Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def test_the_reference_note_is_reproduced_byte_for_byte() -> None:
    signer = Signer.parse(GO_SKEY)
    assert signer.skey == GO_SKEY and signer.verifier.vkey == GO_VKEY
    assert format_note(GO_TEXT, [sign(GO_TEXT, signer)]) == GO_NOTE
    assert verify_note(GO_NOTE, Verifier.parse(GO_VKEY)) == GO_TEXT
    assert verify_note(SPEC_NOTE, Verifier.parse(SPEC_VKEY)) == "This is an example message.\n"


def test_altered_notes_and_wrong_keys_are_refused() -> None:
    verifier = Verifier.parse(GO_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(GO_NOTE.replace("problem is", "problem was"), verifier)
    with pytest.raises(NoteError, match="not signed by"):
        verify_note(GO_NOTE, Verifier.parse(SPEC_VKEY))
    for bad in ["", GO_TEXT, GO_TEXT + "\n", GO_TEXT + "\nno dash here\n", GO_TEXT.replace("\n", "\r\n") + GO_NOTE]:
        with pytest.raises(NoteError):
            verify_note(bad, verifier)
    with pytest.raises(NoteError, match="key ID"):
        Verifier.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_checkpoints_round_trip_and_are_bound_to_their_origin() -> None:
    signer = Signer.generate("ledger.opentic.example/2026")
    checkpoint = Checkpoint("ledger.opentic.example/2026", 12345, bytes(range(32)))
    note = format_note(checkpoint.body, [sign(checkpoint.body, signer)])
    root_line = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    assert note.splitlines()[:3] == ["ledger.opentic.example/2026", "12345", root_line]
    assert open_checkpoint(note, signer.verifier, "ledger.opentic.example/2026") == checkpoint
    with pytest.raises(NoteError, match="expected"):
        open_checkpoint(note, signer.verifier, "ledger.opentic.example/2025")
    for body in ["o\n012\nAAAA\n", "o\n12\n", "o\n-1\n" + checkpoint.body.split("\n")[2] + "\n"]:
        with pytest.raises(NoteError):
            Checkpoint.parse(body)


def test_witness_cosignatures() -> None:
    log = Signer.generate("ledger.opentic.example/2026")
    witness = Signer.generate("witness.sc.example/w1", COSIGNATURE_V1)
    body = Checkpoint("ledger.opentic.example/2026", 7, bytes(32)).body
    note = format_note(body, [sign(body, log), cosign(body, witness, 1_790_000_000)])
    assert verify_cosignature(note, witness.verifier) == 1_790_000_000
    assert verify_note(note, log.verifier) == body
    forged = format_note(body.replace("\n7\n", "\n8\n"), [cosign(body, witness, 1_790_000_000)])
    with pytest.raises(NoteError):
        verify_cosignature(forged, witness.verifier)
    with pytest.raises(NoteError, match="cosignature"):
        cosign(body, log, 1)


ROOT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.mark.parametrize("size", ["２０", "٣", "²", "1²", "٣٤", "+5", " 5", "5 ", "1_000", "00", "01",
                                  "9223372036854775808", "99999999999999999999"])
def test_tree_sizes_are_ascii_decimal_only(size: str) -> None:
    """tlog-checkpoint: "the ASCII decimal representation … with no leading zeroes". str.isdigit took
    full-width and Arabic-Indic digits (read as 20 and 3) and "²" (then int() raised a plain ValueError)."""
    with pytest.raises(NoteError, match="tree size"):
        Checkpoint.parse(f"example.com/log\n{size}\n{ROOT}\n")


def test_the_largest_tree_size_is_go_s_int64() -> None:
    assert Checkpoint.parse(f"o\n9223372036854775807\n{ROOT}\n").size == 2**63 - 1
    assert Checkpoint.parse(f"o\n0\n{ROOT}\n").size == 0


def test_checkpoint_lines_as_the_spec_says() -> None:
    with pytest.raises(NoteError, match="origin"):
        Checkpoint.parse(f"\n5\n{ROOT}\n")
    with pytest.raises(NoteError, match="extension"):
        Checkpoint.parse(f"o\n5\n{ROOT}\n\nextra\n")
    assert Checkpoint.parse(f"o\n5\n{ROOT}\nextra one\n").extensions == ("extra one",)


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "a\udc80b"])
def test_lone_surrogates_give_the_note_error(bad: str) -> None:
    """Notes are UTF-8; a lone surrogate has no UTF-8 form and raised UnicodeEncodeError."""
    verifier = Verifier.parse(GO_VKEY)
    with pytest.raises(NoteError, match="UTF-8"):
        verify_note(GO_NOTE.replace("cryptography", bad), verifier)
    with pytest.raises(NoteError, match="UTF-8"):
        Checkpoint.parse(f"example.com/{bad}\n5\n{ROOT}\n")
    with pytest.raises(NoteError, match="UTF-8"):
        sign(f"text {bad}\n", Signer.parse(GO_SKEY))
    with pytest.raises(NoteError):
        Verifier.parse(GO_VKEY.replace("PeterNeumann", f"Peter{bad}"))
    with pytest.raises(NoteError):
        verify_note(GO_NOTE.replace("\u2014 PeterNeumann", f"\u2014 Peter{bad}"), verifier)


@pytest.mark.parametrize("name", ["Peter+Neumann", "Peter\u3000Neumann", "Peter\u00a0Neumann", ""])
def test_signature_key_names_hold_no_unicode_space_or_plus(name: str) -> None:
    note = GO_NOTE.replace("\u2014 PeterNeumann", f"\u2014 {name}")
    with pytest.raises(NoteError):
        verify_note(note, Verifier.parse(GO_VKEY))


def test_a_note_with_too_many_signatures_is_refused() -> None:
    line = GO_NOTE.split("\n\n")[1]
    with pytest.raises(NoteError, match="signatures"):
        verify_note(GO_TEXT + "\n" + line * 101, Verifier.parse(GO_VKEY))
    assert verify_note(GO_TEXT + "\n" + line * 16, Verifier.parse(GO_VKEY)) == GO_TEXT  # at least 16 accepted


@pytest.mark.parametrize("index", ["²", "２", "٣", "01"])
def test_a_proof_files_index_is_ascii_decimal(index: str) -> None:
    """The offline proof file (ledger/entry.py) reads its index line the same way."""
    from opentic.ledger.entry import PROOF_HEADER, EntryError, ProofFile

    with pytest.raises(EntryError, match="ASCII decimal"):
        ProofFile.decode(f"{PROOF_HEADER}\nextra AAAA\nindex {index}\n\n{GO_NOTE}")
