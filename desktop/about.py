"""Help > About: the version, what KPDD is, the active model's provenance, the program sandbox's
protections on this computer (kpdd.sandbox.os_layer_status: each one active, or off and why), and the
licenses.

Everything here is read locally: the version from the installed distribution's metadata, the model
from its GGUF header (`kpdd.models`), the license texts from the bundle's `licenses/` folder (written
by packaging/gather_licenses.py) or, in a source checkout, from the repository's LICENSE file.
"""

from __future__ import annotations

import html
import sys
from importlib import metadata
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.models_view import size_text
from kpdd import models, sandbox

ROOT = Path(__file__).resolve().parents[1]
PROJECT_LICENSE = "Apache-2.0"
KPDD_PAPER = "arXiv 2407.10167"

# (component, license) of what the installer bundles; the same list as packaging/gather_licenses.py.
BUNDLED = [
    ("Qt 6 / PySide6", "LGPL-3.0"),
    ("llama.cpp / ggml", "MIT"),
    ("llama-cpp-python", "MIT"),
    ("Python", "PSF-2.0"),
    ("numpy", "BSD-3-Clause"),
    ("Jinja2 / MarkupSafe", "BSD-3-Clause"),
    ("diskcache", "Apache-2.0"),
    ("platformdirs", "MIT"),
    ("typing-extensions", "PSF-2.0"),
    ("pyseccomp", "MIT"),
    ("landlock", "MIT"),
    ("libseccomp (if the system has none)", "LGPL-2.1"),
    ("WenQuanYi Micro Hei (the font for Chinese)", "Apache-2.0"),
]


def app_version() -> str:
    """The installed version; "dev" when running from a checkout that was never installed."""
    try:
        return metadata.version("kpdd-tutor")
    except metadata.PackageNotFoundError:
        return "dev"


def notices_path() -> Path | None:
    """The third-party notices inside a PyInstaller bundle (None when not frozen)."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "licenses" / "THIRD-PARTY-NOTICES.txt" if bundle else None


def licenses_text() -> str:
    """What the Licenses... button shows: the bundle's notices, else the list and our LICENSE."""
    path = notices_path()
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        return f"{text}\nThe full texts are in {path.parent}\n"
    lines = [f"KPDD Tutor {app_version()}: {PROJECT_LICENSE}", "", "Bundled third-party parts (installer):"]
    lines += [f"  {name}: {license_name}" for name, license_name in BUNDLED]
    lines += ["", "Qt and PySide6 are dynamically linked under the LGPL and can be replaced.", ""]
    license_file = ROOT / "LICENSE"
    if license_file.is_file():
        lines += ["-" * 72, "LICENSE", "-" * 72, license_file.read_text(encoding="utf-8", errors="replace")]
    return "\n".join(lines)


def plain_text(value: object) -> str:
    """A manifest value (nested dicts and lists from JSON) as one readable line, not a Python repr."""
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {plain_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(plain_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class LicensesDialog(QDialog):
    """A read-only view of the license texts, closed with Esc or the Close button."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Licenses"))
        self.text_edit = QPlainTextEdit()
        self.text_edit.setReadOnly(True)
        self.text_edit.setPlainText(text)
        self.text_edit.setAccessibleName(self.tr("License texts"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_edit)
        layout.addWidget(buttons)
        self.resize(720, 560)


class AboutDialog(QDialog):
    """Version, KPDD, the active model and the licenses; Esc or Close closes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.licenses_dialog: LicensesDialog | None = None
        self.setWindowTitle(self.tr("About KPDD Tutor"))
        self.title_label = QLabel(self.tr("KPDD Tutor {0}").format(app_version()))
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName(self.tr("Version"))
        self.body = QTextBrowser()
        self.body.setOpenExternalLinks(False)  # offline app: nothing to open
        self.body.setAccessibleName(self.tr("About KPDD Tutor"))
        self.body.setHtml(self.body_html())
        self.licenses_button = QPushButton(self.tr("&Licenses..."))
        self.licenses_button.setAccessibleName(self.tr("Show the license texts"))
        self.licenses_button.clicked.connect(self.show_licenses)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.licenses_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.body)
        layout.addWidget(buttons)
        self.resize(620, 560)

    def answering_text(self) -> list[str]:
        """What a student wants first: which model answers, what checks it, and how often it is right."""
        try:
            entry = models.active_model()
        except models.ModelNotFoundError:
            return [self.tr("No model is installed yet: run `{0}`.").format(models.SETUP_COMMAND)]
        lines = [self.tr("{0} answers your problems.").format(entry.name)]
        second = models.second_opinion_model(entry)
        if second is not None:
            if models.checks_every_answer():
                lines.append(
                    self.tr("{0} solves every problem too, to check the answer.").format(second.name)
                )
            else:
                lines.append(self.tr("{0} is asked too when an answer looks doubtful.").format(second.name))
        if entry.measured_text:
            lines.append(self.tr("Measured: {0}.").format(entry.measured_text))
        return lines

    def model_rows(self) -> list[tuple[str, str]]:
        """(label, value) rows of technical details about the active model (none when there is none)."""
        try:
            entry = models.active_model()
        except models.ModelNotFoundError:
            return []
        files = entry.path.name + (f" + {entry.lora_path.name}" if entry.lora_path else "")
        if entry.merged_type and entry.base_and_adapter:  # setup merged the two into that one file
            base, adapter = entry.base_and_adapter
            files += f" ({base.name} + {adapter.name})"
        if entry.format_version:
            training = self.tr("trained on the KPDD format ({0})").format(entry.format_version)
        else:
            training = self.tr("prompted few-shot (not trained on the KPDD format)")
        rows = [
            (self.tr("Model"), entry.name),
            (self.tr("File"), files),
            (self.tr("Size"), size_text(entry.size)),
            (self.tr("Quantization"), entry.quantization or "?"),
            (self.tr("Architecture"), entry.architecture or "?"),
            (self.tr("Format"), training),
        ]
        # The base model's source (the stock model itself, or the base under a KPDD adapter).
        source = models.BASE_MODELS.get(entry.base_path.name)
        license_name = entry.license or (source.license if source else "")
        rows.append((self.tr("License"), license_name or self.tr("unknown")))
        if source is not None:
            rows.append(
                (
                    self.tr("Source"),
                    self.tr("package {0}, sha256 {1}").format(source.packages, source.sha256),
                )
            )
        provenance = entry.provenance
        if isinstance(provenance.get("teachers"), dict):
            rows.append((self.tr("Taught by"), plain_text(provenance["teachers"])))
        if provenance.get("data"):
            rows.append((self.tr("Trained on"), plain_text(provenance["data"])))
        return rows

    def feature_label(self, name: str) -> str:
        labels = {
            "seccomp": self.tr("System-call filter (seccomp)"),
            "landlock": self.tr("File and network rules (Landlock)"),
            "network_namespace": self.tr("No network (a network namespace of its own)"),
            "unprivileged_user": self.tr("Unprivileged user"),
            "fresh_process": self.tr("A fresh process for each program"),
            "job_object": self.tr("Job Object (Windows)"),
            "restricted_token": self.tr("Restricted token (Windows)"),
            "network": self.tr("Network"),
            "sandbox_exec": self.tr("sandbox-exec profile (macOS)"),
            "worker": self.tr("Sandbox worker"),
        }
        return labels.get(name, name)

    def feature_state(self, feature: sandbox.OSFeature) -> str:
        """One feature's state in words: active, or off and why (the technical detail after it)."""
        reasons = {
            "active": self.tr("in force"),
            "not_root": self.tr("in force (the app does not run as root)"),
            "untried": self.tr("applied (untried on this platform)"),
            "no_pyseccomp": self.tr("off: the pyseccomp package is missing"),
            "no_libseccomp": self.tr("off: the system library libseccomp.so.2 is missing"),
            "filter_failed": self.tr("off: the filter could not be built"),
            "no_landlock_package": self.tr("off: the landlock package is missing"),
            "kernel": self.tr("off: this kernel does not offer it"),
            "no_namespace": self.tr("off: this system does not let the app make one (user namespaces)"),
            "setuid_failed": self.tr("off: the switch to the user nobody failed"),
            "not_linux": self.tr("not available on this system"),
            "windows_network": self.tr("not blocked on Windows"),
            "job_failed": self.tr("off: the Job Object could not be set"),
            "token_failed": self.tr("off: the token could not be lowered"),
            "no_sandbox_exec": self.tr("off: sandbox-exec is missing"),
            "no_worker": self.tr("off: the sandbox could not start"),
            "disabled_for_test": self.tr("off (test)"),
        }
        state = reasons.get(feature.reason) or (self.tr("in force") if feature.active else self.tr("off"))
        return f"{state} ({feature.detail})" if feature.detail else state

    def sandbox_rows(self, features=None) -> list[tuple[str, str, bool]]:
        """(label, state, active) for each protection the sandbox's worker reports here."""
        features = sandbox.os_layer_status() if features is None else features
        return [(self.feature_label(f.name), self.feature_state(f), f.active) for f in features]

    def body_html(self) -> str:
        # self.tr() calls stay outside f-strings: pyside6-lupdate does not look inside them.
        esc = html.escape
        intro = self.tr(
            "An offline math word-problem tutor built on Key-Point-Driven Distillation "
            "(KPDD; Zhu et al., 2024, {0}): core question, key information, then a solution."
        ).format(KPDD_PAPER)
        answering_title = self.tr("Which model answers")
        model_title = self.tr("Model details")
        licenses_title = self.tr("Licenses")
        own_license = self.tr("KPDD Tutor is licensed under {0}.").format(PROJECT_LICENSE)
        sandbox_title = self.tr("Program sandbox")
        sandbox_intro = self.tr(
            "The programs a model writes run in a sandbox: checked before they run, then in a fresh "
            "process with these protections from the operating system:"
        )
        sandbox_weaker = self.tr(
            "Some protections are off on this computer: the others and the sandbox's own checks still "
            "apply, but programs run less contained than they could."
        )
        sandbox_refused = self.tr(
            "None of these holds programs on this computer, so programs do not run: Steps mode works, "
            "and Settings > Programs can let programs run unprotected."
        )
        sandbox_unprotected = self.tr(
            "None of these holds programs on this computer, and Settings > Programs lets them run anyway: "
            "only the sandbox's own checks stand between a program and your files."
        )
        sandbox_platforms = self.tr(
            "Tested on Linux (seccomp and Landlock). On macOS a sandbox-exec profile, and on Windows a Job "
            "Object with a Low-integrity token, are applied where available but have not been tried."
        )
        bundled_title = self.tr("Bundled third-party parts:")
        lgpl_note = self.tr("Qt and PySide6 are dynamically linked under the LGPL and can be replaced.")
        parts = [f"<p>{esc(intro)}</p>", f"<h3>{esc(answering_title)}</h3>"]
        parts += [f"<p>{esc(line)}</p>" for line in self.answering_text()]
        parts += [f"<h3>{esc(sandbox_title)}</h3>", f"<p>{esc(sandbox_intro)}</p><table>"]
        protection = sandbox.protection()
        rows = self.sandbox_rows(protection.features)
        for label, state, active in rows:
            value = esc(state) if active else f"<b>{esc(state)}</b>"
            parts.append(f"<tr><td>{esc(label)}&nbsp;&nbsp;</td><td>{value}</td></tr>")
        parts.append("</table>")
        if not protection.protected:
            parts.append(
                f"<p><b>{esc(sandbox_unprotected if protection.allowed else sandbox_refused)}</b></p>"
            )
        elif not all(active for _, _, active in rows):
            parts.append(f"<p>{esc(sandbox_weaker)}</p>")
        parts.append(f"<p>{esc(sandbox_platforms)}</p>")
        parts += [f"<h3>{esc(licenses_title)}</h3>", f"<p>{esc(own_license)}</p>"]
        parts.append(f"<p>{esc(bundled_title)}</p><ul>")
        parts += [f"<li>{esc(name)}: {esc(license_name)}</li>" for name, license_name in BUNDLED]
        parts.append(f"</ul><p>{esc(lgpl_note)}</p>")
        rows = self.model_rows()  # last: for whoever wants to know exactly what runs
        if rows:
            parts.append(f"<h3>{esc(model_title)}</h3><table>")
            for label, value in rows:
                parts.append(f"<tr><td><b>{esc(label)}</b>&nbsp;&nbsp;</td><td>{esc(value)}</td></tr>")
            parts.append("</table>")
        return "".join(parts)

    def show_licenses(self) -> None:
        self.licenses_dialog = LicensesDialog(licenses_text(), self)
        self.licenses_dialog.open()
