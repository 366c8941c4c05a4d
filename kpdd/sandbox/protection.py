"""Whether an operating-system layer holds programs here, and what the tutor does where none does
(fail closed): each OS feature as the worker reports it (`OSFeature`), which features protect
(`PROTECTING_FEATURES`), the user's `unsafe_programs` setting, and the sentences that say which case
holds (`Protection`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OSFeature:
    """One protection of the operating-system layer and whether it is in force on this machine.

    ``reason`` is a short code ("active", "no_libseccomp", "kernel", "no_namespace", "not_linux",
    "untried" ...) that the app turns into a sentence (desktop/about.py); ``detail`` is technical
    (an ABI version, an errno) and shown as it is.
    """

    name: str
    active: bool
    reason: str
    detail: str = ""


# The feature (or features together) of the operating-system layer that blocks file writes, network
# and exec on each platform. Without one, programs run only when the user turns that on knowingly.
PROTECTING_FEATURES = (("seccomp",), ("sandbox_exec",), ("job_object", "restricted_token"))
UNPROTECTED_SETTING = "unsafe_programs"


@dataclass(frozen=True)
class Protection:
    """Whether programs run behind an operating-system layer here, and if not, whether they may run."""

    protected: bool
    allowed: bool  # protected, or the user turned `unsafe_programs` on
    features: tuple[OSFeature, ...] = ()

    @property
    def refusal(self) -> str:
        """The one line that says why a program did not run (empty when programs run)."""
        if self.allowed:
            return ""
        return (
            "Programs do not run on this computer: it offers no operating-system sandbox for them "
            "(seccomp on Linux), so a program could read or change your files. Steps mode still works; "
            f"to run programs unprotected anyway: `kpdd config {UNPROTECTED_SETTING} on` "
            "(or Settings > Programs)."
        )

    @property
    def warning(self) -> str:
        """The one line that says programs run unprotected (empty when they are protected or refused)."""
        if self.protected or not self.allowed:
            return ""
        return (
            "Programs run unprotected on this computer (no operating-system sandbox; you turned "
            f"`{UNPROTECTED_SETTING}` on): only the sandbox's Python checks stand between a program and your files."
        )


def protects(features: list[OSFeature] | tuple[OSFeature, ...]) -> bool:
    """Whether these features include an OS layer that blocks file writes, network and exec."""
    active = {f.name for f in features if f.active}
    return any(all(name in active for name in group) for group in PROTECTING_FEATURES)


def unprotected_allowed() -> bool:
    """The user's `unsafe_programs` setting (off unless turned on)."""
    from kpdd import paths

    value = paths.load_config().get(UNPROTECTED_SETTING)
    return value is True or str(value).strip().lower() in ("on", "true", "yes", "1")
