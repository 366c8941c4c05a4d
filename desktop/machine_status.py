"""What the window says about what it runs on: the model in the status bar (and a message when
there is none, or it is damaged), and a banner while programs cannot run protected here."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from desktop.session import TutorSession
from kpdd.models import SETUP_COMMAND, setup_models_text


class ModelStatus(QLabel):
    def draw(self, session: TutorSession) -> None:
        texts = {
            "idle": self.tr("Model: not loaded yet"),
            "loading": self.tr("Loading model {0}...").format(session.model_name),
            "ready": self.tr("Model: {0}").format(session.model_name),
            "missing": self.tr("No model installed: run `{0}`").format(SETUP_COMMAND),
            "corrupt": self.tr("The model could not be loaded"),
        }
        self.setText(texts.get(session.model_state, ""))

    def failure_message(self, kind: str, message: str) -> tuple[str, str]:
        """The title and text of the message a failed model load gets (kind: missing | corrupt)."""
        if kind == "missing":
            return self.tr("No model yet"), self.tr(
                "KPDD Tutor needs a model to solve problems, and none is installed yet.\n\n"
                "Open a terminal and run:\n\n    {0}\n\n"
                "It places the default model ({1}) in your data folder; it works offline afterwards. "
                "You can also add a GGUF file of your own in Tools > Models."
            ).format(SETUP_COMMAND, setup_models_text())
        return self.tr("The model could not be loaded"), self.tr(
            "The model file could not be opened. It may be corrupt or incomplete.\n\n{0}\n\n"
            "Choose another model in Tools > Models, or run `{1}` again."
        ).format(message, SETUP_COMMAND)


class SandboxBanner(QLabel):
    """Stays up while programs cannot run protected here (kpdd.sandbox.protection): not only in About."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sandboxBanner")
        self.setWordWrap(True)
        self.hide()

    def draw(self, session: TutorSession) -> None:
        protection = session.protection
        if protection is None or protection.protected:
            self.hide()
            return
        if protection.allowed:
            self.setText(self.tr(
                "Programs run unprotected on this computer: it has no operating-system sandbox for them, "
                "and Settings lets them run anyway. Only the tutor's own checks stand between a program "
                "and your files."
            ))  # fmt: skip
        else:
            self.setText(self.tr(
                "Programs cannot run safely on this computer: it has no operating-system sandbox for "
                "them, so Program and Both mode are off. Steps mode works. Settings can let programs run "
                "unprotected."
            ))  # fmt: skip
        self.show()
