"""desktop/screenshots.py shows the model a user would see: the KPDD student, not its base file alone."""

from __future__ import annotations

from desktop.screenshots import use_model
from kpdd import models


def test_screenshots_show_the_student_with_its_adapter(kpdd_home, smollm2_gguf):
    # The real home's models folder holds the base GGUF; the student is that file plus our adapter.
    use_model(None, smollm2_gguf.parent, "KPDD SmolLM2-135M")
    shown = models.active_model()
    assert shown.kind == "bundled" and shown.lora_path is not None and shown.lora_path.exists()
    assert shown.path.resolve() == smollm2_gguf.resolve()


def test_screenshots_keep_a_stock_model_the_user_chose(kpdd_home, smollm2_gguf):
    use_model(None, smollm2_gguf.parent, models.SMOLLM2.name)
    shown = models.active_model()
    assert shown.name == models.SMOLLM2.name and shown.lora_path is None
